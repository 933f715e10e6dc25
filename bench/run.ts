// `npm run bench`: every case in bench/cases, in order, or only those named on the command line.
// Each case prints its own figures; ratios against a peer tool in the same run are what count.
import {readdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cases');
const wanted = process.argv.slice(2);
const cases = readdirSync(dir).filter(f => f.endsWith('.ts')).sort()
	.filter(f => wanted.length === 0 || wanted.some(w => f.includes(w)));

for (const file of cases) {
	console.log(`\n=== ${file.replace(/\.ts$/, '')} ===`);
	const mod = await import(path.join(dir, file)) as {run: () => Promise<void>};
	await mod.run();
}
