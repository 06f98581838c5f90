// The app's own illustration of each dish (src/assets/dishes/<dish id>.svg), a plate for any other.
const images = import.meta.glob<string>("../assets/dishes/*.svg", { eager: true, query: "?url", import: "default" });

export function dishImage(dishId: string, fromApi?: string | null): string {
  const own = images[`../assets/dishes/${dishId}.svg`];
  return own ?? fromApi ?? images["../assets/dishes/plate.svg"] ?? "";
}
