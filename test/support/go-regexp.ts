import {execFileSync, spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, readFileSync, renameSync} from 'node:fs';
import path from 'node:path';
import {root} from './logmon.js';

// Go's regexp package, built from test/support/go-regexp/main.go into .cache, as the
// reference for the RE2 dialect of logmon's regexes (the logio server is written in Go).

const source = path.join(root, 'test', 'support', 'go-regexp', 'main.go');

export type GoAnswer = {results: Array<boolean[] | null>; errors: string[]};

/** Per pattern (null when Go refuses it), per line, each match as [start, end, group 1 start, group 1 end] in UTF-16 units, -1 for no group 1. */
export type GoRanges = Array<Array<Array<[number, number, number, number]>> | null>;

export function hasGo(): boolean {
	return spawnSync('go', ['version'], {stdio: 'ignore'}).status === 0;
}

function binary(): string {
	const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
	const dir = path.join(root, '.cache', 'go-regexp');
	const file = path.join(dir, `go-regexp-${hash}`);
	if (!existsSync(file)) {
		mkdirSync(dir, {recursive: true});
		const partial = `${file}.partial`;
		execFileSync('go', ['build', '-o', partial, source], {stdio: ['ignore', 'ignore', 'inherit'], env: {...process.env, CGO_ENABLED: '0'}});
		renameSync(partial, file);
	}

	return file;
}

/** Which of `lines` each pattern matches, as Go's regexp.MatchString says; an error text where Go refuses the pattern. */
export function goMatches(patterns: string[], lines: string[]): GoAnswer {
	const out = execFileSync(binary(), {input: JSON.stringify({patterns, lines}), maxBuffer: 256 * 1024 * 1024});
	return JSON.parse(out.toString('utf8')) as GoAnswer;
}

/** Every match of each pattern in each line, as Go's FindAllStringSubmatchIndex finds them (in UTF-16 units). */
export function goRanges(patterns: string[], lines: string[]): GoAnswer & {ranges: GoRanges} {
	const out = execFileSync(binary(), {input: JSON.stringify({patterns, lines, ranges: true}), maxBuffer: 512 * 1024 * 1024});
	return JSON.parse(out.toString('utf8')) as GoAnswer & {ranges: GoRanges};
}
