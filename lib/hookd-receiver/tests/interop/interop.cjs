// Signs and verifies with the npm `standardwebhooks` package, for hookd's interop tests
// (lib/hookd-receiver/tests/it/interop.rs). Same protocol as interop.py: a request on stdin,
// verdicts and signatures per library on stdout. NODE_PATH points at the node_modules folder.
"use strict";

const { Webhook } = require("standardwebhooks");

function verdicts(cases) {
  return cases.map((c) => {
    try {
      new Webhook(c.secret).verify(c.body, c.headers, { jsonParse: false });
      return { ok: true };
    } catch (e) {
      return { ok: false, error: `${e.name}: ${e.message}` };
    }
  });
}

function signatures(cases) {
  return cases.map((c) => new Webhook(c.secret).sign(c.id, new Date(c.timestamp * 1000), c.body));
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  input += chunk;
});
process.stdin.on("end", () => {
  const request = JSON.parse(input);
  const result = {
    standardwebhooks: { verify: verdicts(request.verify), sign: signatures(request.sign) },
  };
  process.stdout.write(JSON.stringify(result));
});
