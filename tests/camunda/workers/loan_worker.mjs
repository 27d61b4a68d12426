// A worker written against Camunda's own Node client, unchanged but for the URL and credentials: it serves the
// `credit-score` topic of tests/camunda/models/loan.bpmn. Each instance says in its `mode` variable what the
// worker does: complete with a typed score, throw the BPMN error REJECTED, or fail (once with a retry, then for
// good). It stops after HANDLED_TASKS tasks and prints one JSON line per task it handled.
import { Client, BasicAuthInterceptor, Variables } from "camunda-external-task-client-js";

const expected = Number(process.env.HANDLED_TASKS);
let handled = 0;
const client = new Client({
  baseUrl: process.env.ENGINE_REST_URL,
  workerId: "node-worker",
  asyncResponseTimeout: 2000,
  lockDuration: 20000,
  interceptors: new BasicAuthInterceptor({ username: "worker", password: process.env.CLIENTFLOW_TOKEN }),
});

function done(task, action) {
  handled += 1;
  console.log(JSON.stringify({ id: task.id, businessKey: task.businessKey, retries: task.retries, action }));
  if (handled >= expected) {
    client.stop();
    setTimeout(() => process.exit(0), 100);
  }
}

client.subscribe("credit-score", async ({ task, taskService }) => {
  const mode = task.variables.get("mode");
  if (mode === "complete") {
    const profile = task.variables.get("profile");
    const variables = new Variables().setTyped("score", { value: 400 + profile.age, type: "Integer" })
      .set("checkedBy", "node").set("report", { bureau: "acme", flags: [] });
    await taskService.complete(task, variables);
    done(task, "complete");
  } else if (mode === "reject") {
    await taskService.handleBpmnError(task, "REJECTED", "on a blacklist", new Variables().set("reason", "blacklist"));
    done(task, "bpmnError");
  } else {
    const retries = task.retries === null ? 1 : task.retries - 1;
    await taskService.handleFailure(task, { errorMessage: "bureau unreachable", errorDetails: "ECONNREFUSED",
                                            retries, retryTimeout: 0 });
    done(task, `failure retries=${retries}`);
  }
});

client.on("complete:error", (_task, error) => { console.error("complete failed", error); process.exit(2); });
client.on("handleFailure:error", (_task, error) => { console.error("failure failed", error); process.exit(2); });
client.on("handleBpmnError:error", (_task, error) => { console.error("bpmnError failed", error); process.exit(2); });
client.on("poll:error", (error) => { console.error("poll failed", error); process.exit(3); });
setTimeout(() => { console.error(`timed out after ${handled} of ${expected} tasks`); process.exit(4); }, 60000);
