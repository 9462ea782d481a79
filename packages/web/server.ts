// A small static server for the demo page: the built bundle at /, and optionally a folder of
// model files at /files/ (with HEAD and Range support, so the page streams weights by URL).
//
//   npx tsx packages/web/server.ts [--port 8080] [--host 127.0.0.1] [--files DIR]

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

/** The file under `root` that URL path `path` names, or undefined if it escapes `root` or is missing. */
function fileIn(root: string, path: string): string | undefined {
  const file = normalize(join(root, decodeURIComponent(path)));
  if (file !== root && !file.startsWith(root + sep)) return undefined;
  if (!existsSync(file) || !statSync(file).isFile()) return undefined;
  return file;
}

/** Serves `dist` at / and `files` (when given) at /files/. Resolves once listening. */
export async function startServer(options: { dist: string; files?: string; port?: number; host?: string }): Promise<Server> {
  const dist = resolve(options.dist);
  const files = options.files && resolve(options.files);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = url.pathname === '/' ? '/index.html' : url.pathname;
    let root = dist;
    if (files && path.startsWith('/files/')) {
      root = files;
      path = path.slice('/files'.length);
    }
    const file = fileIn(root, path);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(file ? 405 : 404, { 'content-type': 'text/plain' }).end(file ? 'method not allowed' : 'not found');
      return;
    }
    const size = statSync(file).size;
    const headers: Record<string, string | number> = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': 'no-store',
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (req.headers.range) {
      if (!range || Number(range[1]) >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['content-length'] = end - start + 1;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || size === 0) res.end();
    else createReadStream(file, { start, end }).pipe(res);
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(options.port ?? 8080, options.host ?? '127.0.0.1', ok));
  return server;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const dist = fileURLToPath(new URL('./dist/', import.meta.url));
  if (!existsSync(join(dist, 'index.html'))) {
    console.error('packages/web/dist is not built: run npm run build:web first');
    process.exit(1);
  }
  const files = arg('files') ?? process.env.UNICONTROL_WEB_FILES;
  const server = await startServer({ dist, files, port: Number(arg('port') ?? 8080), host: arg('host') });
  const { port } = server.address() as { port: number };
  console.log(`UniControl demo: http://${arg('host') ?? '127.0.0.1'}:${port}/${files ? ` (serving ${files} at /files/)` : ''}`);
}
