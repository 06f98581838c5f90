import { describe, expect, it } from "vitest";
import { ApiError, parseProblem, toApiError } from "./problem";

describe("parseProblem", () => {
  it("reads a problem+json body with field errors", () => {
    const err = parseProblem(422, {
      type: "https://brigade.dev/problems/validation",
      title: "Invalid request",
      status: 422,
      detail: "2 fields are invalid",
      errors: [
        { field: "body.email", message: "not an e-mail address" },
        { field: "password", message: "at least 12 characters" },
      ],
    });
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.title).toBe("Invalid request");
    expect(err.detail).toBe("2 fields are invalid");
    expect(err.forField("email")).toBe("not an e-mail address");
    expect(err.forField("password")).toBe("at least 12 characters");
    expect(err.forField("display_name")).toBeUndefined();
  });

  it("replaces a regular expression with what the field wants", () => {
    const err = parseProblem(422, { errors: [{ field: "email", message: "String should match pattern '^[a-z]+@…$'" }] });
    expect(err.forField("email", "Enter an e-mail address like ana@example.com")).toBe("Enter an e-mail address like ana@example.com");
    expect(err.forField("email")).toMatch(/pattern/);
  });

  it("keeps extension members (a decline code)", () => {
    const err = parseProblem(402, { type: "card-declined", title: "Payment declined", decline_code: "insufficient_funds" });
    expect(err.extensions.decline_code).toBe("insufficient_funds");
    expect(err.type).toBe("card-declined");
  });

  it("lists the field problems no form field shows", () => {
    const err = parseProblem(422, { title: "Invalid", errors: [{ field: "email", message: "taken" }, { field: "quantity", message: "too many" }] });
    expect(err.unmatched(["email"])).toEqual([{ field: "quantity", message: "too many" }]);
  });

  it("survives bodies that are not problems", () => {
    expect(parseProblem(502, "Bad Gateway\n", "Bad Gateway").title).toBe("Bad Gateway");
    expect(parseProblem(500, undefined).title).toBe("Request failed (500)");
    expect(parseProblem(400, [1, 2]).errors).toEqual([]);
    expect(parseProblem(400, { errors: [{ msg: "x", loc: ["body", "dish_id"] }, "junk", { nothing: 1 }] }).errors).toEqual([
      { field: "body.dish_id", message: "x" },
    ]);
  });

  it("treats gateway failures and no answer as unreachable, a 4xx not", () => {
    expect(parseProblem(503, {}).unreachable).toBe(true);
    expect(toApiError(new TypeError("Failed to fetch")).unreachable).toBe(true);
    expect(parseProblem(409, {}).unreachable).toBe(false);
  });
});
