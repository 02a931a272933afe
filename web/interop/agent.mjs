// A minimal user agent for the interoperability tests: fetch with one cookie jar and redirects
// followed by hand, so a test sees every hop of a sign-in (and can stop at the relying party's
// redirect URI, which nothing listens on).

/** Cookie jar keyed by origin and name; paths are ignored because each test flow is short. */
export class Agent {
  #jar = new Map();

  cookies(origin) {
    return this.#jar.get(origin) ?? new Map();
  }

  #store(url, res) {
    const origin = new URL(url).origin;
    const cookies = this.#jar.get(origin) ?? new Map();
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v = ""] = a.split("=").map((s) => s.trim());
        if (/^max-age$/i.test(k)) return Number(v) <= 0;
        if (/^expires$/i.test(k)) return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === "") cookies.delete(name);
      else cookies.set(name, value);
    }
    this.#jar.set(origin, cookies);
  }

  /** One request, no redirect following. init.form: an object or URLSearchParams sent as a form. */
  async fetch(url, init = {}) {
    const headers = new Headers(init.headers);
    const cookies = this.cookies(new URL(url).origin);
    if (cookies.size) headers.set("cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    let body = init.body;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers.set("content-type", "application/x-www-form-urlencoded");
    }
    const res = await fetch(url, { method: init.method ?? (body ? "POST" : "GET"), headers, body, redirect: "manual" });
    this.#store(url, res);
    return res;
  }

  /**
   * Follows redirects (GET) until an answer that is not a redirect, or until the next location
   * starts with `stopAt` (the relying party's redirect URI). Returns { res, url, hops }.
   */
  async follow(url, init = {}, { stopAt, maxHops = 15 } = {}) {
    let res = await this.fetch(url, init);
    const hops = [url];
    for (let i = 0; i < maxHops; i++) {
      const location = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || !location) return { res, url, hops };
      await res.arrayBuffer();
      url = new URL(location, url).href;
      hops.push(url);
      if (stopAt && url.startsWith(stopAt)) return { res, url, hops, stopped: true };
      res = await this.fetch(url);
    }
    throw new Error(`too many redirects: ${hops.join(" -> ")}`);
  }
}

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", "#39": "'", "#x27": "'", "#x2F": "/", "#47": "/" };

function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e) => {
    if (ENTITIES[e] !== undefined) return ENTITIES[e];
    if (/^#x/i.test(e)) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (/^#/.test(e)) return String.fromCodePoint(Number(e.slice(1)));
    return m;
  });
}

/**
 * The forms of an HTML page: [{ id, action, method, fields }] where fields holds the hidden
 * inputs (what a browser would submit without the user choosing). Enough for the small, known
 * pages of urad's demo IdP and the upstream test provider; not a general HTML parser.
 */
export function forms(html, baseUrl) {
  const out = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attr = (src, name) => {
      const a = src.match(new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, "i"));
      return a ? decodeEntities(a[2] ?? a[3]) : undefined;
    };
    const fields = new URLSearchParams();
    for (const input of m[2].matchAll(/<input\b([^>]*)>/gi)) {
      if ((attr(input[1], "type") ?? "text").toLowerCase() !== "hidden") continue;
      const name = attr(input[1], "name");
      if (name) fields.append(name, attr(input[1], "value") ?? "");
    }
    out.push({
      id: attr(m[1], "id"),
      action: new URL(attr(m[1], "action") ?? baseUrl, baseUrl).href,
      method: (attr(m[1], "method") ?? "get").toLowerCase(),
      fields,
    });
  }
  return out;
}
