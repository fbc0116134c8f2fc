// A Vite plugin: after the build, writes name.br and name.gz next to every
// text file in the output, so the web server (server/encoding.go) sends them
// compressed without compressing on each request.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin, ResolvedConfig } from 'vite';

const TEXT = /\.(js|css|html|svg|json|txt)$/;
const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

export function precompress(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'tidings-precompress',
    apply: 'build',
    configResolved(c) {
      config = c;
    },
    async closeBundle() {
      const outDir = join(config.root, config.build.outDir);
      const names = (await readdir(outDir, { recursive: true })).filter((n) => TEXT.test(n));
      await Promise.all(
        names.map(async (name) => {
          const file = join(outDir, name);
          const body = await readFile(file);
          await writeFile(`${file}.br`, await brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
          await writeFile(`${file}.gz`, await gz(body, { level: 9 }));
        }),
      );
    },
  };
}
