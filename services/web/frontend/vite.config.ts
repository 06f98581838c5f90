import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vitest/config";

// `npm run build` writes dist/, which the web service serves (and, locally, routes /api like the Ingress).
// BRIGADE_API (e.g. http://localhost:8080) lets `vite` dev forward /api to a running gateway.
const api = process.env.BRIGADE_API ?? "http://localhost:8080";

export default defineConfig({
  plugins: [vue()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: { proxy: { "/api": { target: api, ws: true, changeOrigin: false } } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
