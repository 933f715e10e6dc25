import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import {describe, expect, test} from 'vitest';
import {root} from '../support/logmon.js';

// No import circles in source/: a module's dependencies load before it, and a
// circle makes the order depend on which file is imported first. Type-only and
// dynamic imports count too: they still tie the two files together.

const sourceDir = path.join(root, 'source');

function files(dir: string): string[] {
	return readdirSync(dir, {withFileTypes: true}).flatMap(d => {
		const full = path.join(dir, d.name);
		return d.isDirectory() ? files(full) : (/\.tsx?$/.test(d.name) ? [full] : []);
	});
}

/** Each file's relative imports, resolved to files of source/ (paths relative to source/). */
function importGraph(): Map<string, string[]> {
	const all = files(sourceDir);
	const known = new Set(all);
	const graph = new Map<string, string[]>();
	for (const file of all) {
		const {importedFiles} = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
		const targets = new Set<string>();
		for (const {fileName} of importedFiles) {
			if (!fileName.startsWith('.')) {
				continue;
			}

			const base = path.resolve(path.dirname(file), fileName).replace(/\.js$/, '');
			const target = [base + '.ts', base + '.tsx'].find(f => known.has(f));
			if (target) {
				targets.add(path.relative(sourceDir, target));
			}
		}

		graph.set(path.relative(sourceDir, file), [...targets].sort());
	}

	return graph;
}

/** The strongly connected components of more than one file, or of a file importing itself (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
	const index = new Map<string, number>();
	const low = new Map<string, number>();
	const stack: string[] = [];
	const onStack = new Set<string>();
	const out: string[][] = [];
	let next = 0;
	const visit = (v: string): void => {
		index.set(v, next);
		low.set(v, next);
		next++;
		stack.push(v);
		onStack.add(v);
		for (const w of graph.get(v) ?? []) {
			if (!index.has(w)) {
				visit(w);
				low.set(v, Math.min(low.get(v)!, low.get(w)!));
			} else if (onStack.has(w)) {
				low.set(v, Math.min(low.get(v)!, index.get(w)!));
			}
		}

		if (low.get(v) === index.get(v)) {
			const component: string[] = [];
			let w: string;
			do {
				w = stack.pop()!;
				onStack.delete(w);
				component.push(w);
			} while (w !== v);
			if (component.length > 1 || (graph.get(v) ?? []).includes(v)) {
				out.push(component.sort());
			}
		}
	};

	for (const v of [...graph.keys()].sort()) {
		if (!index.has(v)) {
			visit(v);
		}
	}

	return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

describe('imports', () => {
	test('source/ has no import circles', () => {
		const graph = importGraph();
		expect(graph.size).toBeGreaterThan(40);
		expect(circles(graph)).toEqual([]);
	});
});
