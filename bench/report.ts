// `npm run bench:report -- RESULTS.json [REPORT]`: (re)build the HTML + Markdown report from a
// results file without running anything (default REPORT: next to the JSON, same name).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { checkReportTarget, parseResultsText } from './lib/output-paths.js';
import { renderHtml, renderMarkdown } from './lib/report-doc.js';

const [json, out] = process.argv.slice(2);
try {
  if (json === undefined) throw new Error('usage: npm run bench:report -- RESULTS.json [REPORT]');
  const target = await checkReportTarget(out ?? json.replace(/\.json$/, ''));
  const doc = parseResultsText(json, await readFile(json, 'utf8'));
  await mkdir(dirname(target.html), { recursive: true });
  await writeFile(target.html, renderHtml(doc));
  await writeFile(target.markdown, renderMarkdown(doc));
  process.stderr.write(`report: ${target.html} and ${target.markdown}\n`);
} catch (err) {
  process.stderr.write(`bench:report failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
