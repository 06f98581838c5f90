// A dish's picture: the one staff uploaded (the kitchen serves it at /api/kitchen/images/<sha256>),
// else the app's own illustration (src/assets/dishes/<dish id>.svg), else the API's URL, else a plate.
const images = import.meta.glob<string>("../assets/dishes/*.svg", { eager: true, query: "?url", import: "default" });

const UPLOADED = /^\/api\/kitchen\/images\/[0-9a-f]{64}$/;

export function dishImage(dishId: string, fromApi?: string | null): string {
  if (fromApi && UPLOADED.test(fromApi)) return fromApi;
  const own = images[`../assets/dishes/${dishId}.svg`];
  return own ?? fromApi ?? images["../assets/dishes/plate.svg"] ?? "";
}
