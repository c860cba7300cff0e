// A small Express app full of flaws, annotated for the adapter tests.
const express = require("express");
const axios = require("axios");
const jwt = require("jsonwebtoken");
const cors = require("cors");
const { exec } = require("child_process");

const app = express();
// ruleid: wb-js-cors-any-origin-credentials
app.use(cors({ origin: "*", credentials: true }));
// ruleid: wb-js-secret-env-fallback
const JWT_SECRET = process.env.JWT_SECRET || "dev-secret";
// ok: wb-js-secret-env-fallback
const PORT = process.env.PORT || "3000";

app.post("/fetch", async (req, res) => {
  // ruleid: wb-js-ssrf-request-url
  const r = await axios.get(req.body.url);
  // ruleid: wb-js-console-log
  console.log("fetched", req.body.url);
  res.json(r.data);
});

app.get("/convert", (req, res) => {
  // ruleid: wb-js-exec-request
  exec("convert " + req.query.name + " out.png");
  res.json({ ok: true });
});

app.get("/calc", (req, res) => {
  // ruleid: wb-js-eval-request
  res.json({ result: eval(req.query.expr) });
});

app.get("/token", (req, res) => {
  // ruleid: wb-js-jwt-literal-secret
  res.json({ token: jwt.sign({ sub: "1" }, "super-secret") });
});

app.get("/items", async (req, res) => {
  try {
    res.json(await loadItems());
  } catch (err) {
    // ruleid: wb-js-error-text-in-response
    res.status(500).json({ error: err.message });
  }
});

app.listen(PORT);
