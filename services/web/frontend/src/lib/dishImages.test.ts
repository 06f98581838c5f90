import { describe, expect, it } from "vitest";
import { dishImage } from "./dishImages";

const UPLOADED = `/api/kitchen/images/${"ab".repeat(32)}`;

describe("dishImage", () => {
  it("shows the picture staff uploaded, even for a dish the app has its own illustration of", () => {
    expect(dishImage("ensalada-cesar", UPLOADED)).toBe(UPLOADED);
    expect(dishImage("a-new-dish", UPLOADED)).toBe(UPLOADED);
  });

  it("keeps the app's illustration of a seeded dish, and a plate for a new dish without a picture", () => {
    const plate = dishImage("a-new-dish", null);
    expect(plate).not.toBe("");
    expect(dishImage("another-new-dish")).toBe(plate);
    const own = dishImage("ensalada-cesar", "/images/ensalada-cesar.svg");
    expect(own).not.toBe("/images/ensalada-cesar.svg");
    expect(own).not.toBe(plate);
  });

  it("never takes a URL that only looks like the kitchen's", () => {
    expect(dishImage("ensalada-cesar", "/api/kitchen/images/../../evil")).toBe(dishImage("ensalada-cesar"));
  });
});
