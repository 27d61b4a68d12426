// The studio's side panel: edits what our engine reads from the selected element without touching XML: names
// (a lane's name is its role), a user task's form files, timer expressions, gateway conditions and default flows,
// scripts, a rule task's decision. Every change goes through bpmn-js's modeling commands, so undo/redo work.
(function () {
  "use strict";

  var TIMER_KINDS = [["timeDuration", "Duration (e.g. PT2H, P3D)"], ["timeDate", "Date (e.g. 2030-01-31T09:00:00Z)"],
                     ["timeCycle", "Cycle (e.g. R3/PT1H)"]];
  var ISO_LITERAL = /^(R\d*\/|P(?=\d|T\d)|\d{4}-\d{2}-\d{2})/i;

  function is(element, type) {
    var bo = element && element.businessObject;
    return !!(bo && bo.$instanceOf && bo.$instanceOf(type));
  }

  function text(tag, content, className) {
    var node = document.createElement(tag);
    if (content) { node.textContent = content; }
    if (className) { node.className = className; }
    return node;
  }

  // A timer expression is Python: a plain ISO 8601 value has to be a quoted string.
  function asExpression(value) {
    var trimmed = value.trim();
    return ISO_LITERAL.test(trimmed) ? JSON.stringify(trimmed) : trimmed;
  }

  function shownExpression(body) {
    var match = /^\s*(["'])(.*)\1\s*$/.exec(body || "");
    return match ? match[2] : (body || "");
  }

  function Panel(modeler, container, options) {
    this.modeler = modeler;
    this.container = container;
    this.options = options;
    this.modeling = modeler.get("modeling");
    this.moddle = modeler.get("moddle");
    this.registry = modeler.get("elementRegistry");
    this.element = null;
    var self = this;
    modeler.on("selection.changed", function (event) {
      self.show(event.newSelection.length === 1 ? event.newSelection[0] : null);
    });
    modeler.on("elements.changed", function (event) {
      if (self.element && event.elements.some(function (e) { return e.id === self.element.id; })) {
        window.setTimeout(function () { self.show(self.registry.get(self.element.id) || null); }, 0);
      }
    });
    modeler.on("import.done", function () { self.show(null); });
  }

  Panel.prototype.show = function (element) {
    if (element && element.type === "label" && element.labelTarget) { element = element.labelTarget; }
    this.element = element;
    var box = this.container;
    box.textContent = "";
    if (!element) {
      box.appendChild(text("p", "Select an element to edit its properties.", "empty"));
      return;
    }
    var bo = element.businessObject;
    box.appendChild(text("h2", bo.name || bo.id));
    box.appendChild(text("p", element.type.replace("bpmn:", "") + " · " + bo.id, "kind"));
    this.problems(box, bo.id);
    if (!is(element, "bpmn:Process") && !is(element, "bpmn:Collaboration")) { this.nameField(box, element); }
    if (is(element, "bpmn:UserTask") || is(element, "bpmn:ManualTask")) { this.userTask(box, element); }
    if (is(element, "bpmn:StartEvent") && !(bo.eventDefinitions || []).length) { this.formFields(box, element, false); }
    if (this.timer(bo)) { this.timerFields(box, element); }
    if (is(element, "bpmn:SequenceFlow") && this.choosing(bo.sourceRef)) { this.conditionFields(box, element); }
    if (this.choosing(bo)) { this.defaultFlowField(box, element); }
    if (is(element, "bpmn:ScriptTask")) { this.scriptField(box, element); }
    if (is(element, "bpmn:BusinessRuleTask")) { this.decisionField(box, element); }
    if (is(element, "bpmn:CallActivity")) { this.calledElementField(box, element); }
  };

  Panel.prototype.problems = function (box, id) {
    (this.options.findings() || []).filter(function (f) { return f.element_id === id; }).forEach(function (f) {
      box.appendChild(text("p", (f.severity === "error" ? "Error: " : "Warning: ") + f.message, "problem"));
    });
  };

  // One labelled input; `commit` runs when the value is changed (on blur or Enter), never per keystroke.
  Panel.prototype.field = function (box, spec) {
    var wrap = text("div", null, "field");
    var id = "panel-" + spec.name;
    var label = text("label", spec.label);
    label.htmlFor = id;
    var input = document.createElement(spec.tag || "input");
    input.id = id;
    input.name = spec.name;
    if (!spec.tag) { input.type = "text"; }
    if (spec.options) {
      spec.options.forEach(function (pair) {
        var option = text("option", pair[1]);
        option.value = pair[0];
        input.appendChild(option);
      });
    }
    if (spec.list) { input.setAttribute("list", spec.list); }
    input.value = spec.value || "";
    if (spec.tag === "textarea") { input.spellcheck = false; input.rows = spec.rows || 6; }
    wrap.appendChild(label);
    wrap.appendChild(input);
    if (spec.help) {
      var help = text("p", spec.help, "help");
      help.id = id + "-help";
      input.setAttribute("aria-describedby", help.id);
      wrap.appendChild(help);
    }
    input.addEventListener("change", function () { spec.commit(input.value); });
    box.appendChild(wrap);
    return input;
  };

  Panel.prototype.nameField = function (box, element) {
    var modeling = this.modeling;
    var lane = is(element, "bpmn:Lane");
    this.field(box, { name: "name", label: lane ? "Role (lane name)" : "Name", value: element.businessObject.name,
      help: lane ? "Users with this role get the user tasks in this lane." : null,
      commit: function (value) { modeling.updateProperties(element, { name: value.trim() || undefined }); } });
  };

  // -- user tasks and start forms ----------------------------------------------------------------------------
  Panel.prototype.userTask = function (box, element) {
    var lanes = this.registry.filter(function (e) {
      return is(e, "bpmn:Lane") && (e.businessObject.flowNodeRef || []).indexOf(element.businessObject) >= 0;
    });
    var laneText = lanes.length ? "Lane (role): " + (lanes[0].businessObject.name || lanes[0].id)
      : "In no lane: every user is offered it. Move it into a lane to give it to a role.";
    box.appendChild(text("p", laneText, lanes.length ? "help" : "problem"));
    this.formFields(box, element, true);
    var self = this;
    this.field(box, { name: "separation", label: "Not by whoever completed (element ids)",
      value: this.property(element.businessObject, "separationOfDutiesFrom"),
      help: "Separation of duties, e.g. collect_documents. Leave empty for none.",
      commit: function (value) { self.setProperty(element, "separationOfDutiesFrom", value.trim()); } });
  };

  Panel.prototype.formFields = function (box, element, withUi) {
    var self = this;
    var listId = "panel-form-files";
    if (!document.getElementById(listId)) {
      var list = document.createElement("datalist");
      list.id = listId;
      (this.options.formFiles() || []).forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        list.appendChild(option);
      });
      box.appendChild(list);
    }
    var current = this.property(element.businessObject, "formJsonSchemaFilename");
    this.field(box, { name: "form", label: "Form file", value: current, list: listId,
      help: "A .json form of this bundle (create one under Forms below).",
      commit: function (value) { self.setProperty(element, "formJsonSchemaFilename", value.trim()); } });
    if (current) {
      var link = text("a", "Edit " + current);
      link.href = this.options.formUrl(current);
      link.setAttribute("data-save-first", "");
      box.appendChild(link);
    }
    if (withUi) {
      this.field(box, { name: "ui-form", label: "UI schema file (optional)", list: listId,
        value: this.property(element.businessObject, "formUiSchemaFilename"),
        commit: function (value) { self.setProperty(element, "formUiSchemaFilename", value.trim()); } });
    }
  };

  Panel.prototype.extensions = function (bo, type) {
    var ext = bo.get("extensionElements");
    return ext ? ext.get("values").filter(function (v) { return v.$instanceOf(type); }) : [];
  };

  Panel.prototype.property = function (bo, name) {
    var props = this.extensions(bo, "spiffworkflow:Properties")[0];
    var found = props && props.get("properties").filter(function (p) { return p.name === name; })[0];
    return found ? found.value || "" : "";
  };

  Panel.prototype.ensureExtensions = function (element) {
    var bo = element.businessObject;
    var ext = bo.get("extensionElements");
    if (!ext) {
      ext = this.moddle.create("bpmn:ExtensionElements", { values: [] });
      ext.$parent = bo;
      this.modeling.updateModdleProperties(element, bo, { extensionElements: ext });
    }
    return ext;
  };

  Panel.prototype.setProperty = function (element, name, value) {
    var modeling = this.modeling;
    var props = this.extensions(element.businessObject, "spiffworkflow:Properties")[0];
    if (!props) {
      if (!value) { return; }
      var ext = this.ensureExtensions(element);
      props = this.moddle.create("spiffworkflow:Properties", { properties: [] });
      props.$parent = ext;
      modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([props]) });
    }
    var list = props.get("properties");
    var found = list.filter(function (p) { return p.name === name; })[0];
    if (value && found) {
      modeling.updateModdleProperties(element, found, { value: value });
    } else if (value) {
      var prop = this.moddle.create("spiffworkflow:Property", { name: name, value: value });
      prop.$parent = props;
      modeling.updateModdleProperties(element, props, { properties: list.concat([prop]) });
    } else if (found) {
      modeling.updateModdleProperties(element, props, { properties: list.filter(function (p) { return p !== found; }) });
    }
  };

  // -- timers -------------------------------------------------------------------------------------------------
  Panel.prototype.timer = function (bo) {
    return (bo.eventDefinitions || []).filter(function (d) { return d.$instanceOf("bpmn:TimerEventDefinition"); })[0];
  };

  Panel.prototype.timerFields = function (box, element) {
    var self = this;
    var definition = this.timer(element.businessObject);
    var kind = TIMER_KINDS.map(function (k) { return k[0]; }).filter(function (k) { return definition.get(k); })[0]
      || "timeDuration";
    var expression = definition.get(kind) ? definition.get(kind).body : "";
    var kindInput = this.field(box, { name: "timer-kind", label: "Timer type", tag: "select", value: kind,
      options: TIMER_KINDS, commit: function (value) { self.setTimer(element, definition, value, valueInput.value); } });
    var valueInput = this.field(box, { name: "timer", label: "Timer", value: shownExpression(expression),
      help: "ISO 8601: PT30M = 30 minutes, PT2H = 2 hours, P1D = 1 day, P1DT12H = 36 hours. Or a Python expression " +
            "that gives such a text.",
      commit: function (value) { self.setTimer(element, definition, kindInput.value, value); } });
  };

  Panel.prototype.setTimer = function (element, definition, kind, value) {
    var changes = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
    if (value.trim()) {
      var expression = this.moddle.create("bpmn:FormalExpression", { body: asExpression(value) });
      expression.$parent = definition;
      changes[kind] = expression;
    }
    this.modeling.updateModdleProperties(element, definition, changes);
  };

  // -- gateways -----------------------------------------------------------------------------------------------
  Panel.prototype.choosing = function (bo) {
    return !!bo && (bo.$instanceOf("bpmn:ExclusiveGateway") || bo.$instanceOf("bpmn:InclusiveGateway"));
  };

  Panel.prototype.conditionFields = function (box, element) {
    var self = this;
    var bo = element.businessObject;
    var gateway = this.registry.get(bo.sourceRef.id);
    var isDefault = gateway.businessObject.default === bo;
    var condition = bo.conditionExpression ? bo.conditionExpression.body : "";
    this.field(box, { name: "condition", label: "Condition", tag: "textarea", rows: 3, value: condition,
      help: isDefault ? "This is the default flow: it is taken when no other condition holds." :
        'A Python expression over the form fields, e.g. decision == "approve".',
      commit: function (value) {
        var expression;
        if (value.trim()) {
          expression = self.moddle.create("bpmn:FormalExpression", { body: value.trim() });
          expression.$parent = bo;
        }
        self.modeling.updateProperties(element, { conditionExpression: expression });
      } });
    var wrap = text("div", null, "field check");
    var box2 = document.createElement("input");
    box2.type = "checkbox";
    box2.id = "panel-default";
    box2.checked = isDefault;
    var label = text("label", " Default flow of the gateway");
    label.htmlFor = box2.id;
    box2.addEventListener("change", function () {
      self.modeling.updateProperties(gateway, { "default": box2.checked ? bo : null });
    });
    wrap.appendChild(box2);
    wrap.appendChild(label);
    box.appendChild(wrap);
  };

  Panel.prototype.defaultFlowField = function (box, element) {
    var self = this;
    var outgoing = element.businessObject.outgoing || [];
    if (outgoing.length < 2) { return; }
    var options = [["", "(none: an instance matching no condition stops with an error)"]].concat(
      outgoing.map(function (flow) { return [flow.id, (flow.name || flow.id) + " → " + (flow.targetRef.name || flow.targetRef.id)]; }));
    this.field(box, { name: "default-flow", label: "Default flow", tag: "select", options: options,
      value: element.businessObject.default ? element.businessObject.default.id : "",
      commit: function (value) {
        var flow = outgoing.filter(function (f) { return f.id === value; })[0] || null;
        self.modeling.updateProperties(element, { "default": flow });
      } });
  };

  // -- scripts, rules, call activities ----------------------------------------------------------------------
  Panel.prototype.scriptField = function (box, element) {
    var modeling = this.modeling;
    this.field(box, { name: "script", label: "Script (Python, sandboxed)", tag: "textarea", rows: 10,
      value: element.businessObject.script,
      help: "Assignments become process data, e.g. total = amount * 2. No imports, files or network.",
      commit: function (value) { modeling.updateProperties(element, { scriptFormat: "python", script: value }); } });
  };

  Panel.prototype.decisionField = function (box, element) {
    var self = this;
    var found = this.extensions(element.businessObject, "spiffworkflow:CalledDecisionId")[0];
    this.field(box, { name: "decision", label: "Decision id (DMN)", value: found ? found.value : "",
      help: "The id of a decision in a .dmn file of this bundle.",
      commit: function (value) {
        var ext = self.ensureExtensions(element);
        var existing = self.extensions(element.businessObject, "spiffworkflow:CalledDecisionId")[0];
        var values = ext.get("values").filter(function (v) { return v !== existing; });
        if (value.trim()) {
          var decision = self.moddle.create("spiffworkflow:CalledDecisionId", { value: value.trim() });
          decision.$parent = ext;
          values.push(decision);
        }
        self.modeling.updateModdleProperties(element, ext, { values: values });
      } });
  };

  Panel.prototype.calledElementField = function (box, element) {
    var modeling = this.modeling;
    this.field(box, { name: "called", label: "Called process id", value: element.businessObject.calledElement,
      commit: function (value) { modeling.updateProperties(element, { calledElement: value.trim() || undefined }); } });
  };

  window.ClientflowStudioPanel = function (modeler, container, options) {
    return new Panel(modeler, container, options);
  };
})();
