// The set-up form of each connector, rendered from its manifest by two stock libraries
// (@rjsf/core with validator-ajv8, JSON Forms with vanilla renderers) in headless Chromium.
//
// For each connector and library: the schema loads in a strict Ajv2020; every field renders as a
// control (no raw JSON, no missing renderer) under its title; secrets are password inputs;
// defaults are filled; a valid configuration typed into the form submits and the connector's own
// `validate` (host-harness validate, through the real library) accepts what was submitted; each
// invalid value is refused by the form with a message at its field, and by `validate` too.
// Screenshots land in target/browser/ for a person to look at.
//
// Needs: `cargo build --workspace --all-targets` (the libraries and host-harness), `npm ci` here,
// and Chromium at /usr/bin/chromium (Debian's `chromium`), or CHROMIUM=/path.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const here = import.meta.dirname;
const target = process.env.CARGO_TARGET_DIR ?? path.join(here, "..", "..", "target");
const debug = path.join(target, "debug");
const out = path.join(target, "browser");
const library = (dir, name) =>
  ({ win32: path.join(dir, `${name}.dll`), darwin: path.join(dir, `lib${name}.dylib`) })[
    process.platform
  ] ?? path.join(dir, `lib${name}.so`);
const harness = path.join(debug, process.platform === "win32" ? "host-harness.exe" : "host-harness");

const connectors = [
  {
    name: "atlassian",
    library: library(debug, "atlassian_plugin"),
    valid: {
      site_url: "https://acme.atlassian.net",
      scim_url: "https://api.atlassian.com/scim/directory/2fb21891-7bee-4c2d-a61a-ade3834c8b2b",
      account_security_api_key: "tok-Hq3Lw8Ze5Rm2Vx7N",
      admin_email: "idhub-service@acme.com",
      directory_id: "2fb21891-7bee-4c2d-a61a-ade3834c8b2b",
      directory_api_key: "key-Pj6Ts1Yc9Bf4Gk2D",
    },
    invalid: [
      ["site_url", "http://acme.atlassian.net", "plain http to a public host"],
      ["site_url", "acme.atlassian.net", "no scheme"],
      ["scim_url", "https://api.atlassian.com/scim", "no /scim/directory/{id}"],
      ["directory_id", "", "empty Directory ID"],
      ["directory_api_key", " ".repeat(20), "a key of spaces"],
      ["account_security_api_key", "short", "a truncated key"],
      ["default_group_names", ["jira-software-users", "jira-software-users"], "a duplicate group"],
      ["default_group_names", ["jira-software-users", "  "], "a blank group name"],
      ["page_size", 500, "more than Atlassian answers"],
    ],
  },
  {
    name: "memory",
    library: library(path.join(debug, "examples"), "memory_connector"),
    valid: { tenant: "acme", api_token: "t0ken-for-the-test" },
    invalid: [
      ["api_token", "   ", "a token of spaces"],
      ["page_size_max", 0, "a page of nothing"],
      ["seed_users", 2_000_000, "more users than the cap"],
    ],
  },
];

const failures = [];
let passed = 0;
function check(label, ok, detail = "") {
  if (ok) {
    passed += 1;
  } else {
    failures.push(`${label}${detail ? `: ${detail}` : ""}`);
    console.log(`FAIL ${label}${detail ? `: ${detail}` : ""}`);
  }
}

/** What the connector's own `validate` says of `config`, through the real library. */
function validate(connector, config) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "form-")), "config.json");
  fs.writeFileSync(file, JSON.stringify(config));
  const run = spawnSync(harness, ["validate", "--config", file, connector.library], { encoding: "utf8" });
  fs.rmSync(path.dirname(file), { recursive: true });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}

/** A host that keeps Ajv's default strict mode loads the schema (with the one OpenAPI format). */
function strictAjvCompiles(schema) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  ajv.addFormat("password", true);
  try {
    ajv.compile(schema);
    return "";
  } catch (error) {
    return error.message;
  }
}

for (const connector of connectors) {
  for (const file of [harness, connector.library]) {
    if (!fs.existsSync(file)) {
      console.error(`${file} is missing: run \`cargo build --workspace --all-targets\` first`);
      process.exit(2);
    }
  }
  connector.manifest = JSON.parse(execFileSync(harness, ["inspect", "--json", connector.library]));
  const error = strictAjvCompiles(connector.manifest.config_schema);
  check(`${connector.name}: the schema compiles in a strict Ajv2020`, error === "", error);
}

fs.mkdirSync(out, { recursive: true });
const bundle = path.join(out, "app.js");
await esbuild.build({
  entryPoints: [path.join(here, "app.jsx")],
  bundle: true,
  outfile: bundle,
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
try {
  for (const connector of connectors) {
    for (const formLibrary of ["rjsf", "jsonforms"]) {
      // A page that never gets where a step waits for is one failure, not the end of the run.
      await formCase(connector, formLibrary).catch((error) =>
        check(`${connector.name}/${formLibrary}: the form can be driven`, false, error.message.split("\n")[0]),
      );
    }
  }
} finally {
  await browser.close();
}

console.log(
  `config form: ${connectors.length} connectors x 2 libraries: ${passed} checks passed, ${failures.length} failed; screenshots in ${out}`,
);
process.exit(failures.length === 0 ? 0 : 1);

/** One connector's form in one library. */
async function formCase(connector, formLibrary) {
  const label = `${connector.name}/${formLibrary}`;
  const schema = connector.manifest.config_schema;
  const uischema = connector.manifest.config_ui_schema;
  const page = await browser.newPage({ viewport: { width: 900, height: 800 } });
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  await page.setContent('<!doctype html><html><body><div id="root"></div></body></html>');
  await page.addScriptTag({ path: bundle });
  const render = async (formData) => {
    await page.evaluate((c) => window.renderForm(c), { library: formLibrary, schema, uischema, formData });
    await page.locator("form").waitFor();
  };
  const submit = async () => {
    await page.locator('form button[type="submit"]').last().click();
    await page.waitForFunction(() => window.formState.submitted || window.formState.errors, null, {
      timeout: 5000,
    });
    return page.evaluate(() => window.formState);
  };

  // Every field renders under its title, secrets masked, defaults filled.
  await render({});
  const text = await page.locator("body").innerText();
  check(`${label}: no field falls back to raw JSON`, !/Unsupported field schema|No applicable (renderer|cell)/.test(text));
  check(`${label}: no <pre> dump`, (await page.locator("pre").count()) === 0);
  for (const [name, field] of Object.entries(schema.properties)) {
    const control = fieldLocator(page, formLibrary, name, field);
    const found = (await control.count()) > 0;
    check(`${label}: ${name} renders a control`, found);
    if (!found) continue;
    const title = field.title ?? name;
    const labelled = await page.evaluate(
      ([library, name, title]) => window.labelOf(library, name).includes(title),
      [formLibrary, name, title],
    );
    check(`${label}: ${name} is labelled "${title}"`, labelled);
    if (field.writeOnly) {
      check(`${label}: ${name} is a password input`, (await control.first().getAttribute("type")) === "password");
    }
    if (field.default !== undefined) {
      const shown = await shownValue(page, formLibrary, name, field);
      check(`${label}: ${name} shows its default`, JSON.stringify(shown) === JSON.stringify(field.default),
        `${JSON.stringify(shown)} != ${JSON.stringify(field.default)}`);
    }
  }

  // A valid configuration, typed in, submits, and the connector accepts what was submitted.
  if (formLibrary === "jsonforms") {
    // Its first change (the defaults applied) re-renders every input: type after it, as a
    // person does.
    await page.waitForFunction(() => window.formState.data !== null, null, { timeout: 5000 });
  }
  for (const [name, value] of Object.entries(connector.valid)) {
    await fieldLocator(page, formLibrary, name, schema.properties[name]).first().fill(String(value));
  }
  if (formLibrary === "jsonforms") {
    // JSON Forms debounces typing: a person takes longer than that between typing and submit.
    await page
      .waitForFunction(
        (valid) => Object.entries(valid).every(([k, v]) => window.formState.data?.[k] === v),
        connector.valid,
        { timeout: 5000 },
      )
      .catch(async () => {
        const data = await page.evaluate(() => window.formState.data);
        const lost = Object.keys(connector.valid).filter((k) => data?.[k] !== connector.valid[k]);
        throw new Error(`typed values never reached the form's data: ${lost.join(", ")}`);
      });
  }
  await page.screenshot({ path: path.join(out, `${connector.name}-${formLibrary}.png`), fullPage: true });
  const state = await submit();
  check(`${label}: a valid configuration submits`, state.submitted !== null, JSON.stringify(state.errors));
  if (state.submitted) {
    for (const [name, value] of Object.entries(connector.valid)) {
      check(`${label}: ${name} is submitted as typed`, state.submitted[name] === value);
    }
    const verdict = validate(connector, state.submitted);
    check(`${label}: the connector's validate accepts the submitted configuration`, verdict.ok, verdict.output);
  }

  // Each invalid value is refused with a message at its field, and by the connector.
  for (const [index, [name, value, why]] of connector.invalid.entries()) {
    const config = { ...connector.valid, [name]: value };
    await render(config);
    const refused = await submit();
    check(`${label}: ${why} (${name}) is refused`, refused.submitted === null);
    const message = await page.evaluate(([library, name]) => window.errorAt(library, name), [formLibrary, name]);
    check(`${label}: ${why} (${name}) has a message at the field`, message.trim() !== "");
    if (index === 0) {
      await page.screenshot({ path: path.join(out, `${connector.name}-${formLibrary}-refused.png`), fullPage: true });
    }
    if (formLibrary === "rjsf") {
      const verdict = validate(connector, config);
      check(`${connector.name}: validate refuses ${why} (${name}) too`, !verdict.ok);
    }
  }
  check(`${label}: no error in the page`, pageErrors.length === 0, pageErrors.join(" | "));
  await page.close();
}

/** The input (or select, or the array's items) of a top-level field. */
function fieldLocator(page, formLibrary, name, field) {
  const array = field.type === "array";
  if (formLibrary === "rjsf") {
    return array ? page.locator(`[id^="root_${name}_"]:is(input, select)`) : page.locator(`[id="root_${name}"]`);
  }
  return array
    ? page.locator(`.root_properties_${name} tbody input`)
    : page.locator(`[id="#/properties/${name}-input"]`);
}

/** What the form shows in a field, as JSON would hold it. A select shows a constant as its
 * branch's title (rjsf's option values are indices, JSON Forms' the constants). */
async function shownValue(page, formLibrary, name, field) {
  const shown = await fieldLocator(page, formLibrary, name, field).evaluateAll((inputs) =>
    inputs.map((input) => ({ value: input.value, text: input.selectedOptions?.[0]?.textContent })),
  );
  if (field.type === "array") return shown.map((s) => s.value);
  const branch = field.oneOf?.find((b) => shown[0].value === b.const || shown[0].text === b.title);
  if (branch) return branch.const;
  return field.type === "integer" || field.type === "number" ? Number(shown[0].value) : shown[0].value;
}
