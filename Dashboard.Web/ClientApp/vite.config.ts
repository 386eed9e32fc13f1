import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// `npm run build` writes ../wwwroot (Dashboard.Web serves it with MapStaticAssets). Hashed file
// names under /assets/ are cached as immutable; index.html is served with no-cache.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: '../wwwroot',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Dashboard.Web compresses at publish (static web assets), so skip the size report's gzip pass.
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` against a running system: the edge serves /bff and /api on one origin.
    proxy: {
      '/bff': { target: process.env.DASHBOARD_EDGE_URL ?? 'https://localhost:7443', secure: false, changeOrigin: false },
      '/api': { target: process.env.DASHBOARD_EDGE_URL ?? 'https://localhost:7443', secure: false, changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    unstubGlobals: true,
  },
});
