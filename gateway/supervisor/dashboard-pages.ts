// The dashboard's pages, built by Vite into dashboard/dist (npm run build:dashboard): the wallboard
// at /, the agent console at /console, the admin pages at /admin, their assets under /assets.
// Served by the gateway's HTTP app, same origin as the API and Socket.IO, so no CORS is involved.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

// From source (gateway/supervisor/) or from the production bundle (dist/main.js).
const here = dirname(fileURLToPath(import.meta.url));
export const DASHBOARD_DIST =
  [resolve(here, '../../dashboard/dist'), resolve(here, '../dashboard/dist')].find((d) => existsSync(d)) ??
  resolve(here, '../../dashboard/dist');

/**
 * helmet's default policy, less `upgrade-insecure-requests` (the zero-setup URL is plain http on
 * localhost): scripts, styles, sockets only from this origin; uPlot sets inline styles.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

export function dashboardPages(dist: string = DASHBOARD_DIST): Router {
  const router = Router();
  router.use((_req, res, next) => {
    res.set('Content-Security-Policy', CSP);
    next();
  });
  const page = (file: string) => (_req: express.Request, res: express.Response) => {
    const path = resolve(dist, file);
    if (!existsSync(path)) {
      res
        .status(503)
        .type('text/plain')
        .send('The dashboard is not built: run `npm run build:dashboard` (npm start does it).');
      return;
    }
    res.set('Cache-Control', 'no-cache').sendFile(path);
  };
  router.get('/', page('index.html'));
  router.get('/console', page('console.html'));
  router.get('/admin', page('admin.html'));
  // Hashed file names: cached for good.
  router.use(
    '/assets',
    express.static(resolve(dist, 'assets'), { immutable: true, maxAge: '1y', index: false }),
  );
  return router;
}
