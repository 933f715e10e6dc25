import {type Level, type LogEvent, levelRank, LEVELS} from './event.js';
import {FilterError, compileUserRegex} from './regex.js';

// One filter object drives the pipe output, the UI toggles and the UI's `f` prompt.
// Its regexes are RE2's, compiled by core/regex.ts: linear in the input, whatever the pattern.

export {FilterError, compileUserRegex} from './regex.js';

export function parseLevel(value: string, flag: string): Level {
	const v = value.trim().toUpperCase();
	const aliases: Record<string, Level> = {WARNING: 'WARN', ERR: 'ERROR', FATAL: 'CRITICAL', CRIT: 'CRITICAL'};
	const level = aliases[v] ?? LEVELS.find(l => l === v);
	if (!level) {
		throw new FilterError(flag, `unknown level ${JSON.stringify(value)}; expected one of ${LEVELS.join(', ').toLowerCase()}`);
	}

	return level;
}

/** The plain-data description of a filter: what the CLI, config and UI edit. */
export type FilterSpec = {
	grep: string[];
	exclude: string[];
	minLevel?: Level | undefined;
	/** Only these (empty = all). */
	services: string[];
	hosts: string[];
	types: string[];
	sources: string[];
	/** Hidden by UI toggles. */
	hideServices: string[];
	hideHosts: string[];
	hideTypes: string[];
	hideSources: string[];
	hideLevels: Level[];
	/**
	 * Set when the UI's `a` switched a section off: only these pass, none when empty. A hidden list
	 * cannot say "all of them" once there are more names than the statistics keep (500).
	 */
	onlyServices?: string[] | undefined;
	onlyHosts?: string[] | undefined;
	onlyTypes?: string[] | undefined;
	onlySources?: string[] | undefined;
};

export function emptySpec(): FilterSpec {
	return {
		grep: [],
		exclude: [],
		minLevel: undefined,
		services: [],
		hosts: [],
		types: [],
		sources: [],
		hideServices: [],
		hideHosts: [],
		hideTypes: [],
		hideSources: [],
		hideLevels: [],
	};
}

export type Filter = {
	readonly spec: FilterSpec;
	/** True when the event passes. Gap markers pass unless their source is filtered out; alert events are filtered like any other. */
	test(event: LogEvent): boolean;
	/** True when the filter lets everything through. */
	readonly all: boolean;
};

function setOrUndefined(values: readonly string[]): Set<string> | undefined {
	return values.length > 0 ? new Set(values) : undefined;
}

/** Build the predicate once; `test` is on the hot path, so it does no allocation. */
export function compileFilter(spec: FilterSpec, flagNames: {grep?: string; exclude?: string} = {}): Filter {
	const include = spec.grep.map(p => compileUserRegex(p, flagNames.grep ?? '--grep'));
	const exclude = spec.exclude.map(p => compileUserRegex(p, flagNames.exclude ?? '--exclude'));
	const min = spec.minLevel === undefined ? -1 : levelRank[spec.minLevel];
	const services = setOrUndefined(spec.services);
	const hosts = setOrUndefined(spec.hosts);
	const types = setOrUndefined(spec.types);
	const sources = setOrUndefined(spec.sources);
	const hideServices = setOrUndefined(spec.hideServices);
	const hideHosts = setOrUndefined(spec.hideHosts);
	const hideTypes = setOrUndefined(spec.hideTypes);
	const hideSources = setOrUndefined(spec.hideSources);
	const hideLevels = setOrUndefined(spec.hideLevels);
	const onlyServices = spec.onlyServices && new Set(spec.onlyServices);
	const onlyHosts = spec.onlyHosts && new Set(spec.onlyHosts);
	const onlyTypes = spec.onlyTypes && new Set(spec.onlyTypes);
	const onlySources = spec.onlySources && new Set(spec.onlySources);
	const all = include.length === 0 && exclude.length === 0 && min < 0 && !services && !hosts && !types && !sources
		&& !hideServices && !hideHosts && !hideTypes && !hideSources && !hideLevels
		&& !onlyServices && !onlyHosts && !onlyTypes && !onlySources;

	function test(e: LogEvent): boolean {
		if (sources && !sources.has(e.sourceId)) {
			return false;
		}

		if (hideSources?.has(e.sourceId) || (onlySources && !onlySources.has(e.sourceId))) {
			return false;
		}

		if (e.marker === 'gap') {
			return true;
		}

		if (levelRank[e.level] < min || hideLevels?.has(e.level)) {
			return false;
		}

		if ((services && !services.has(e.service)) || hideServices?.has(e.service) || (onlyServices && !onlyServices.has(e.service))) {
			return false;
		}

		if ((hosts && !hosts.has(e.host)) || hideHosts?.has(e.host) || (onlyHosts && !onlyHosts.has(e.host))) {
			return false;
		}

		if ((types && !types.has(e.type)) || hideTypes?.has(e.type) || (onlyTypes && !onlyTypes.has(e.type))) {
			return false;
		}

		if (include.length > 0) {
			let hit = false;
			for (const re of include) {
				if (re.test(e.message)) {
					hit = true;
					break;
				}
			}

			if (!hit) {
				return false;
			}
		}

		for (const re of exclude) {
			if (re.test(e.message)) {
				return false;
			}
		}

		return true;
	}

	return {spec, test, all};
}

/** Space-separated words; quotes keep spaces in one: `"connection refused"`, `!'GET /health'`. */
// An apostrophe between letters is part of the word (`can't`), not a quote.
const word = /(?:[^\s"']+|(?<=\w)'(?=\w)|"[^"]*"|'[^']*')+/g;

function tokens(expression: string): string[] {
	const words = expression.match(word) ?? [];
	// What the words leave out is spaces, or a quote never closed (`"disk full`): that would be
	// read as something else, silently.
	const left = expression.replace(word, '');
	const open = /["']/.exec(left);
	if (open) {
		throw new FilterError('filter', `a ${open[0]} with no closing ${open[0]}`);
	}

	for (const w of words) {
		// `service=` with nothing after it would keep only events with no service; `service=""` says so.
		const bare = /^(service|host|type|source|level)(>=|=)$/.exec(w) ?? (w === '!' ? [w, '!'] : undefined);
		if (bare) {
			throw new FilterError('filter', bare[1] === '!' ? '"!" needs a pattern after it' : `"${w}" needs a value after it (${w}"" for none)`);
		}
	}

	return words.map(w => w.replace(/"([^"]*)"|(?<!\w)'([^']*)'/g, (_, d?: string, q?: string) => d ?? q ?? ''));
}

/** Parse the UI's filter prompt: `regex`, `!regex`, `level>=warn`, `service=x`, `host=x`, `type=x`, `source=x`, space-separated. */
export function parseFilterExpression(expression: string, base: FilterSpec = emptySpec()): FilterSpec {
	const spec: FilterSpec = structuredClone(base);
	for (const token of tokens(expression)) {
		const m = /^(level|service|host|type|source)(>=|=)(.*)$/.exec(token);
		if (m) {
			const [, key, op, value = ''] = m;
			if (key === 'level') {
				spec.minLevel = parseLevel(value, 'filter');
			} else if (op === '=') {
				const list = key === 'service' ? spec.services : key === 'host' ? spec.hosts : key === 'type' ? spec.types : spec.sources;
				list.push(value);
			} else {
				throw new FilterError('filter', `"${key}" takes =, not >=`);
			}
		} else if (token.startsWith('!')) {
			compileUserRegex(token.slice(1), 'filter');
			spec.exclude.push(token.slice(1));
		} else {
			compileUserRegex(token, 'filter');
			spec.grep.push(token);
		}
	}

	return spec;
}

/** Describe the active filter in a few words, for the status bar and diagnostics. */
export function describeFilter(spec: FilterSpec): string {
	const parts: string[] = [];
	for (const g of spec.grep) {
		parts.push(`/${g}/`);
	}

	for (const x of spec.exclude) {
		parts.push(`!/${x}/`);
	}

	if (spec.minLevel) {
		parts.push(`level>=${spec.minLevel.toLowerCase()}`);
	}

	const lists: Array<[string, string[]]> = [['service', spec.services], ['host', spec.hosts], ['type', spec.types], ['source', spec.sources]];
	for (const [name, values] of lists) {
		if (values.length > 0) {
			parts.push(`${name}=${values.join(',')}`);
		}
	}

	const hidden = spec.hideServices.length + spec.hideHosts.length + spec.hideTypes.length + spec.hideSources.length + spec.hideLevels.length;
	if (hidden > 0) {
		parts.push(`${hidden} hidden`);
	}

	const only: Array<[string, string[] | undefined]> = [['service', spec.onlyServices], ['host', spec.onlyHosts], ['type', spec.onlyTypes], ['source', spec.onlySources]];
	for (const [name, values] of only) {
		if (values) {
			parts.push(values.length === 0 ? `no ${name}s` : `only ${values.length} ${name}${values.length === 1 ? '' : 's'}`);
		}
	}

	return parts.join(' ');
}
