// The dashboard's build: plain TypeScript pages (wallboard at /, agent console at /console, admin
// pages at /admin)
// bundled into dashboard/dist, which the gateway serves (gateway/supervisor/dashboard-pages.ts).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: resolve(root, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        wallboard: resolve(root, 'index.html'),
        console: resolve(root, 'console.html'),
        admin: resolve(root, 'admin.html'),
      },
    },
  },
});
