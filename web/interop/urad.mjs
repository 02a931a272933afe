// Starts a urad process of its own for the interoperability tests: they need urad configured
// with an upstream (the oidc-provider they started), which the shared test server is not.
// The binary comes from URAD_BIN (set by `cargo xtask test` to the debug build).

import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

const run = promisify(execFile);

export const URAD_BIN = process.env.URAD_BIN;
const CONTENT_DIR = path.resolve(import.meta.dirname, "../../content");

/** A port free right now; urad's issuer must be known before the upstream can register it. */
export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** TOML for one upstream table (strings and string arrays/inline tables only). */
export function upstreamToml(u) {
  const value = (v) => {
    if (Array.isArray(v)) return `[${v.map(value).join(", ")}]`;
    if (typeof v === "object") return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)} = ${value(x)}`).join(", ")} }`;
    return JSON.stringify(v);
  };
  return `[[upstream]]\n${Object.entries(u)
    .map(([k, v]) => `${k} = ${value(v)}`)
    .join("\n")}\n`;
}

/**
 * A urad instance on 127.0.0.1:port with a fresh SQLite data folder.
 * options: { port, upstreams: [table…], demoIdp = true, clients: [{ id, redirectUris, public,
 * postLogoutRedirectUris, backchannelLogoutUri, minLoa }] }
 * Returns { issuer, secrets: { clientId: secret }, stop() }.
 */
export async function startUrad({ port, upstreams = [], demoIdp = true, clients = [] }) {
  if (!URAD_BIN) throw new Error("URAD_BIN is not set: the path of the urad binary (cargo xtask test sets it)");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "urad-interop-"));
  const store = ["--data-dir", dataDir];
  const secrets = {};
  for (const c of clients) {
    const args = ["client", "add", "--id", c.id, ...store];
    for (const uri of c.redirectUris) args.push("--redirect-uri", uri);
    for (const uri of c.postLogoutRedirectUris ?? []) args.push("--post-logout-redirect-uri", uri);
    if (c.backchannelLogoutUri) args.push("--backchannel-logout-uri", c.backchannelLogoutUri);
    if (c.minLoa) args.push("--min-loa", c.minLoa);
    if (c.public) args.push("--public");
    const { stdout } = await run(URAD_BIN, args, { env: { ...process.env, URAD_LOG: "warn" } });
    const m = stdout.match(/^client secret \(shown only now, store it safely\): (\S+)$/m);
    if (!c.public && !m) throw new Error(`no client secret in the output of urad client add:\n${stdout}`);
    if (m) secrets[c.id] = m[1];
  }
  const upstreamFile = path.join(dataDir, "upstreams.toml");
  await writeFile(upstreamFile, upstreams.map(upstreamToml).join("\n"));
  const child = spawn(
    URAD_BIN,
    [
      "serve",
      "--listen",
      `127.0.0.1:${port}`,
      ...store,
      "--content-dir",
      CONTENT_DIR,
      "--upstreams",
      upstreamFile,
      "--demo-idp",
      String(demoIdp),
    ],
    { env: { ...process.env, URAD_LOG: process.env.URAD_LOG ?? "warn" }, stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = readline.createInterface({ input: child.stdout });
  const issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("urad did not start within 60 s")), 60_000);
    child.once("exit", (code) => reject(new Error(`urad exited with ${code} before it listened`)));
    lines.on("line", (line) => {
      const m = line.match(/^urad serves the portal at (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/+$/, ""));
      }
    });
  });
  return {
    issuer,
    secrets,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
