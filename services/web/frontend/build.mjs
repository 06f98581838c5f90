// Placeholder build: copies the static page to dist/. The real app replaces this with its bundler.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(join(here, "index.html"), join(dist, "index.html"));
console.log(`built ${join(dist, "index.html")}`);
