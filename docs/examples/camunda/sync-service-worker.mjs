// The Java delegate of camunda-bpm-examples' servicetask/service-invocation-synchronous, moved into an
// external-task worker written against Camunda's own Node client: only the URL and the credentials (an API token
// as the Basic-auth password) point it at clientflow. Run it with `node` after `npm install
// camunda-external-task-client-js`; stop it with Ctrl-C.
import { Client, BasicAuthInterceptor, Variables, logger } from "camunda-external-task-client-js";

const client = new Client({
  baseUrl: `${process.env.CLIENTFLOW_URL}/engine-rest`,
  workerId: "sync-service-worker",
  asyncResponseTimeout: 10000, // long polling: the server answers as soon as a task is there
  use: logger,
  interceptors: new BasicAuthInterceptor({ username: "worker", password: process.env.CLIENTFLOW_TOKEN }),
});

// With no Python handler registered under the delegate's class name, the step waits on a topic of that name.
client.subscribe("org.camunda.quickstart.servicetask.invocation.sync.SynchronousServiceTask",
  async ({ task, taskService }) => {
    const customer = task.variables.get("customer");
    const result = new Variables().set("invoked", true).set("greeting", `Hello, ${customer}`);
    await taskService.complete(task, result);
  });
