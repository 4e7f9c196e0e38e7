// The admin page as a host builds it: a connector's set-up form rendered from its manifest by a
// stock library, with the settings docs/hosting.md asks for (Ajv2020, defaults applied, the
// connector's own `validate` left to the host on submit). `window.renderForm` mounts one case;
// `window.formState` is what the test reads back.
import React, { useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import Form from "@rjsf/core";
import { customizeValidator } from "@rjsf/validator-ajv8";
import { JsonForms } from "@jsonforms/react";
import { vanillaCells, vanillaRenderers } from "@jsonforms/vanilla-renderers";

const rjsfValidator = customizeValidator({ AjvClass: Ajv2020 });

function jsonFormsAjv() {
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false, useDefaults: true });
  addFormats(ajv);
  ajv.addFormat("password", true);
  return ajv;
}

function Rjsf({ schema, formData }) {
  return (
    <Form
      schema={schema}
      formData={formData}
      validator={rjsfValidator}
      // The browser's own checks (type="url", required) would block submit with a bubble
      // before the schema's messages; the schema says more, and says it at the field.
      noHtml5Validate
      onSubmit={({ formData }) => {
        window.formState.submitted = formData;
      }}
      onError={(errors) => {
        window.formState.errors = errors.map((e) => `${e.property} ${e.message}`);
      }}
    />
  );
}

function JsonFormsHost({ schema, uischema, formData }) {
  // JSON Forms keeps the data it edits; handing each change back as `data` would make it
  // start over from that object while typing elsewhere is still debounced, losing keystrokes.
  // So the host keeps the latest change, and gives `data` only once.
  const [initial] = useState(formData);
  const latest = useRef({ data: formData, errors: [] });
  const [ajv] = useState(jsonFormsAjv);
  const submit = (event) => {
    event.preventDefault();
    const { data, errors } = latest.current;
    if (errors.length === 0) {
      window.formState.submitted = data;
    } else {
      window.formState.errors = errors.map((e) => `${e.instancePath} ${e.message}`);
    }
  };
  return (
    <form onSubmit={submit}>
      <JsonForms
        schema={schema}
        uischema={uischema}
        data={initial}
        ajv={ajv}
        renderers={vanillaRenderers}
        cells={vanillaCells}
        onChange={({ data, errors }) => {
          latest.current = { data, errors: errors ?? [] };
          window.formState.data = data;
        }}
      />
      <button type="submit">Submit</button>
    </form>
  );
}

let root;
window.renderForm = ({ library, schema, uischema, formData }) => {
  // `data`: what JSON Forms last reported (it debounces typing), for the test to wait on.
  window.formState = { submitted: null, errors: null, data: null };
  root?.unmount();
  root = createRoot(document.getElementById("root"));
  const form =
    library === "rjsf" ? (
      <Rjsf schema={schema} formData={formData} />
    ) : (
      <JsonFormsHost schema={schema} uischema={uischema} formData={formData} />
    );
  root.render(form);
};

// What the test reads of the page: the label of a field, and the messages shown at it.
const rjsfField = (name) => document.querySelector(`[id="root_${name}"]`);
const jsonFormsField = (name) => document.querySelector(`.root_properties_${name}`);
window.labelOf = (library, name) => {
  const label =
    library === "rjsf"
      ? document.querySelector(`label[for="root_${name}"], [id="root_${name}__title"]`)
      : jsonFormsField(name)?.querySelector("label");
  return label?.textContent ?? "";
};
window.errorAt = (library, name) => {
  const messages =
    library === "rjsf"
      ? document.querySelectorAll(`[id^="root_${name}"][id$="__error"]`)
      : // A control's message, or an array item's, shown in its row.
        jsonFormsField(name)?.querySelectorAll(".validation_error, .validation, tbody td span") ?? [];
  return [...messages].map((m) => (m.classList.contains("input-description") ? "" : m.textContent)).join(" ");
};
