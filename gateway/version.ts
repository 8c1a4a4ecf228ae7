// The package version, for documents and banners (read once from package.json). The same file
// runs from source (gateway/) and compiled (dist/gateway/): look upwards for the package file.
import { existsSync, readFileSync } from 'node:fs';

function packageFile(): URL {
  for (const up of ['../package.json', '../../package.json']) {
    const url = new URL(up, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw new Error('package.json not found next to the gateway');
}

export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(packageFile(), 'utf8')) as { version: string }
).version;
