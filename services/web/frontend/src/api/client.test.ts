import { describe, expect, it } from "vitest";
import { isOutage, query, serviceOf } from "./client";

describe("outages", () => {
  it("counts the gateway's and a database's 5xx as the service being down, not a card processor's", () => {
    expect(isOutage({ status: 502, type: "bad-gateway" })).toBe(true);
    expect(isOutage({ status: 503, type: "upstream-unavailable" })).toBe(true);
    expect(isOutage({ status: 504, type: "gateway-timeout" })).toBe(true);
    expect(isOutage({ status: 503, type: "payment-provider-unavailable" })).toBe(false);
    expect(isOutage({ status: 402, type: "card-declined" })).toBe(false);
  });

  it("names the service of a path", () => {
    expect(serviceOf("/api/kitchen/orders?limit=5")).toBe("kitchen");
    expect(serviceOf("/")).toBe("web");
  });
});

describe("query", () => {
  it("leaves out empty parameters", () => {
    expect(query({ limit: 5, cursor: null, status: undefined, q: "" })).toBe("?limit=5");
    expect(query({})).toBe("");
  });
});
