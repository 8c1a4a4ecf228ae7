// The admin API's answers to requests no route takes as sent, in the one error shape:
//  - a known path with another method: 405 METHOD_NOT_ALLOWED with `Allow` listing the methods
//    its routes take, read from the app's own router (every route registered is found, none is
//    listed by hand);
//  - a body that is not JSON on a JSON route: 415 UNSUPPORTED_MEDIA_TYPE (the CSV uploads, paths
//    ending in /imports or /imports/preview, take their files and say so themselves);
//  - a body over the limit: 413 PAYLOAD_TOO_LARGE naming the limit (http-errors.ts).
import type { Express, RequestHandler } from 'express';
import { GatewayError } from '../errors.js';

/** What the router's layers look like from outside (express 5 / router 2). */
interface LayerLike {
  match(path: string): false | { path: string };
  readonly route?: { readonly methods: Record<string, boolean | undefined> };
  readonly handle: { readonly stack?: readonly LayerLike[] };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Methods the layers take for this path, nested routers included (their mount prefix cut). */
export function methodsFor(stack: readonly LayerLike[], path: string, into = new Set<string>()): Set<string> {
  for (const layer of stack) {
    let m: false | { path: string };
    try {
      m = layer.match(path);
    } catch {
      continue; // a malformed percent-escape: that layer would refuse it too
    }
    if (!m) continue;
    if (layer.route) {
      for (const method of METHODS) if (layer.route.methods[method]) into.add(method.toUpperCase());
    } else if (layer.handle.stack) {
      const rest = path.slice(m.path.length);
      methodsFor(layer.handle.stack, rest.startsWith('/') ? rest : `/${rest}`, into);
    }
  }
  return into;
}

/** 405 for a path under /api/v1 that routes take with other methods. Mount after every route. */
export function methodNotAllowed(app: Express, prefix = '/api/v1/'): RequestHandler {
  return (req, res, next) => {
    if (!req.path.startsWith(prefix)) {
      next();
      return;
    }
    const stack = (app as unknown as { router: { stack: readonly LayerLike[] } }).router.stack;
    const allowed = methodsFor(stack, req.path);
    if (allowed.size === 0 || allowed.has(req.method)) {
      next();
      return;
    }
    if (allowed.has('GET')) allowed.add('HEAD');
    const list = [...allowed].sort().join(', ');
    res.set('Allow', list);
    next(new GatewayError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; allowed: ${list}`));
  };
}

/** CSV uploads take files; every other body under /api/v1 is JSON. */
const FILE_UPLOAD = /\/imports(\/preview)?\/?$/;

const hasBody = (headers: Record<string, string | string[] | undefined>): boolean =>
  headers['transfer-encoding'] !== undefined ||
  (headers['content-length'] !== undefined && headers['content-length'] !== '0');

/** 415 for a body that is not JSON, before it is read (mount before express.json). */
export const jsonBodiesOnly: RequestHandler = (req, res, next) => {
  if (!hasBody(req.headers) || req.method === 'GET' || req.method === 'HEAD' || FILE_UPLOAD.test(req.path)) {
    next();
    return;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    next();
    return;
  }
  // The body is not read: close the connection after the answer rather than drain it.
  res.set('Connection', 'close');
  next(
    new GatewayError(
      'UNSUPPORTED_MEDIA_TYPE',
      `${type === '' ? 'A body without Content-Type' : `Content-Type ${type}`} is not taken here; send application/json`,
    ),
  );
};
