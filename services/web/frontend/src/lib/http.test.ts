import { describe, expect, it } from "vitest";
import { ApiClient } from "./http";
import { ApiError } from "./problem";

type Call = { method: string; url: string; headers: Record<string, string>; body?: string };

function fakeFetch(answers: Record<string, Array<() => Response>>) {
  const calls: Call[] = [];
  const fetchFn = (async (url: string, init: RequestInit = {}) => {
    calls.push({ method: init.method ?? "GET", url, headers: (init.headers ?? {}) as Record<string, string>, body: init.body as string | undefined });
    const queue = answers[`${init.method ?? "GET"} ${url}`];
    const next = queue?.shift();
    if (!next) throw new TypeError("Failed to fetch");
    return next();
  }) as unknown as typeof fetch;
  return { fetchFn, calls };
}

const json = (status: number, body: unknown, type = "application/json") => () =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": type, date: "Tue, 01 Dec 2026 11:00:00 GMT" } });

describe("ApiClient", () => {
  it("refreshes once on 401 and retries the request", async () => {
    const { fetchFn, calls } = fakeFetch({
      "GET /api/kitchen/orders": [json(401, { title: "Unauthorized" }), json(200, { items: [] })],
      "POST /api/auth/refresh": [json(200, { access_token: "x" })],
    });
    const client = new ApiClient({ fetch: fetchFn, csrfToken: () => "c" });
    const res = await client.get<{ items: unknown[] }>("/api/kitchen/orders");
    expect(res.data).toEqual({ items: [] });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "GET /api/kitchen/orders",
      "POST /api/auth/refresh",
      "GET /api/kitchen/orders",
    ]);
  });

  it("does not loop: a second 401 after the refresh is the answer", async () => {
    const { fetchFn, calls } = fakeFetch({
      "GET /api/auth/me": [json(401, { title: "Unauthorized" }), json(401, { title: "Still no" })],
      "POST /api/auth/refresh": [json(200, {})],
    });
    const client = new ApiClient({ fetch: fetchFn });
    await expect(client.get("/api/auth/me")).rejects.toMatchObject({ status: 401, title: "Still no" });
    expect(calls).toHaveLength(3);
  });

  it("reports a lost session when the refresh is refused, and does not retry", async () => {
    let lost = 0;
    const { fetchFn, calls } = fakeFetch({
      "GET /api/auth/me": [json(401, {})],
      "POST /api/auth/refresh": [json(401, { title: "Refresh token expired" })],
    });
    const client = new ApiClient({ fetch: fetchFn, onSessionLost: () => lost++ });
    await expect(client.get("/api/auth/me")).rejects.toBeInstanceOf(ApiError);
    expect(lost).toBe(1);
    expect(calls).toHaveLength(2);
  });

  it("keeps the session when auth is only unavailable during the refresh", async () => {
    let lost = 0;
    const { fetchFn } = fakeFetch({
      "GET /api/auth/me": [json(401, {})],
      "POST /api/auth/refresh": [json(503, { title: "Service Unavailable" })],
    });
    const client = new ApiClient({ fetch: fetchFn, onSessionLost: () => lost++ });
    await expect(client.get("/api/auth/me")).rejects.toMatchObject({ status: 401 });
    expect(lost).toBe(0);
  });

  it("hands the new session to onRefreshed", async () => {
    const got: unknown[] = [];
    const { fetchFn } = fakeFetch({ "POST /api/auth/refresh": [json(200, { expires_in: 900 })] });
    const client = new ApiClient({ fetch: fetchFn, onRefreshed: (b) => got.push(b) });
    expect(await client.refresh()).toBe(true);
    expect(got).toEqual([{ expires_in: 900 }]);
  });

  it("shares one refresh between concurrent 401s (a refresh token is spent once)", async () => {
    const { fetchFn, calls } = fakeFetch({
      "GET /a": [json(401, {}), json(200, 1)],
      "GET /b": [json(401, {}), json(200, 2)],
      "POST /api/auth/refresh": [json(200, {})],
    });
    const client = new ApiClient({ fetch: fetchFn });
    const [a, b] = await Promise.all([client.get("/a"), client.get("/b")]);
    expect([a.data, b.data]).toEqual([1, 2]);
    expect(calls.filter((c) => c.url === "/api/auth/refresh")).toHaveLength(1);
  });

  it("never refreshes for the auth calls that opt out", async () => {
    const { fetchFn, calls } = fakeFetch({ "POST /api/auth/signin": [json(401, { title: "Wrong e-mail or password" }, "application/problem+json")] });
    const client = new ApiClient({ fetch: fetchFn });
    await expect(client.post("/api/auth/signin", {}, { noRefresh: true })).rejects.toMatchObject({ title: "Wrong e-mail or password" });
    expect(calls).toHaveLength(1);
  });

  it("sends the CSRF cookie's value on unsafe requests only, and JSON bodies", async () => {
    const { fetchFn, calls } = fakeFetch({ "POST /x": [json(201, { ok: true })], "GET /x": [json(200, {})] });
    const client = new ApiClient({ fetch: fetchFn, csrfToken: () => "tok" });
    await client.post("/x", { a: 1 }, { headers: { "Idempotency-Key": "k" } });
    await client.get("/x");
    expect(calls[0]?.headers["x-csrf-token"]).toBe("tok");
    expect(calls[0]?.headers["Idempotency-Key"]).toBe("k");
    expect(calls[0]?.body).toBe('{"a":1}');
    expect(calls[1]?.headers["x-csrf-token"]).toBeUndefined();
  });

  it("turns problem+json into ApiError and network failure into an unreachable one", async () => {
    let unreachable = 0;
    const { fetchFn } = fakeFetch({
      "POST /api/payments": [json(402, { title: "Payment declined", detail: "Your card was declined.", decline_code: "card_declined" }, "application/problem+json")],
    });
    const client = new ApiClient({ fetch: fetchFn, onUnreachable: () => unreachable++ });
    const err = await client.post("/api/payments", {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 402, detail: "Your card was declined." });
    expect((err as ApiError).extensions.decline_code).toBe("card_declined");
    const down = await client.get("/nowhere").catch((e: unknown) => e);
    expect(down).toMatchObject({ status: 0, unreachable: true });
    expect(unreachable).toBe(1);
  });

  it("hands every response to onResponse (the server clock reads its Date)", async () => {
    const dates: Array<string | null> = [];
    const { fetchFn } = fakeFetch({ "GET /x": [json(200, {})] });
    const client = new ApiClient({ fetch: fetchFn, onResponse: (r) => dates.push(r.headers.get("date")) });
    await client.get("/x");
    expect(dates).toEqual(["Tue, 01 Dec 2026 11:00:00 GMT"]);
  });
});

describe("bodies other than JSON", () => {
  it("sends a merge patch as its own media type and a picture as its bytes, with If-Match", async () => {
    const { fetchFn, calls } = fakeFetch({
      "PATCH /api/kitchen/dishes/x": [json(200, { id: "x" })],
      "PUT /api/kitchen/dishes/x/image": [json(200, { id: "x" })],
    });
    const client = new ApiClient({ fetch: fetchFn, csrfToken: () => "c" });
    await client.request("PATCH", "/api/kitchen/dishes/x", {
      body: { price_cents: 900 },
      contentType: "application/merge-patch+json",
      headers: { "If-Match": '"3"' },
    });
    const picture = new Blob([new Uint8Array([0x89, 0x50])], { type: "image/png" });
    await client.request("PUT", "/api/kitchen/dishes/x/image", { raw: picture, contentType: "image/png", headers: { "If-Match": '"4"' } });
    const [patched, put] = calls as [Call, Call];
    expect(patched.headers["content-type"]).toBe("application/merge-patch+json");
    expect(patched.headers["If-Match"]).toBe('"3"');
    expect(patched.body).toBe('{"price_cents":900}');
    expect(put.headers["content-type"]).toBe("image/png");
    expect(put.body).toBe(picture as unknown as string);
  });
});
