import {type BuiltinRule, builtinRules, ruleAliases} from './redact-rules.js';
import {FilterError, type UserRegex, compileUserRegex} from './regex.js';

// What a redaction is asked to do (RedactSpec), what it reports (RedactHealth), and the checks of a
// spec's parts that settings run before any scan is built: built-in rule names, user rules, field
// paths. core/redact-text.ts builds the redactor from a checked spec.

export type RedactMode = 'mask' | 'hash';

export type RedactSpec = {
	/** Built-in rules (or `ip`) to turn on, besides the default ones. */
	enable: readonly string[];
	disable: readonly string[];
	rules: ReadonlyArray<{name: string; pattern: string; from: string}>;
	fields: readonly string[];
	mode: RedactMode;
	/** Where enable/disable/fields came from, for errors: `--redact-enable`, `redact.enable`... */
	from?: {enable?: string; disable?: string; fields?: string};
};

export type RuleKind = 'built-in' | 'rule' | 'field';

export type RuleHealth = {name: string; kind: RuleKind; hits: number};

/** What the stage has done: each rule's hits (events it changed), and events it had to withhold. */
export type RedactHealth = {
	mode: RedactMode;
	rules: RuleHealth[];
	/** Events (or texts) at least one rule changed. */
	changed: number;
	failures: number;
	lastFailure?: string | undefined;
	/** Why the batch screen failed, if it has (the rules' own scans answer since). */
	screenFailure?: string | undefined;
};

const ruleName = /^[a-z\d][\w.-]{0,39}$/i;
const fieldPath = /^[\w$@-]+(?:\.[\w$@-]+)*$/;

export type Rule = RuleHealth & {
	builtin?: BuiltinRule;
	user?: UserRegex;
	field?: string[];
	/** The event serial it last counted a hit in: a hit counts once per event. */
	stamp: number;
	/** What its hits become in mask mode, bare and as a JSON string. */
	mask: string;
	quotedMask: string;
};

/** Bounded memo: cleared when full, so a stream of distinct values cannot grow it. */
export class Memo<V> {
	private readonly map = new Map<string, V>();
	constructor(private readonly max: number) {}

	get(key: string, make: (key: string) => V): V {
		let v = this.map.get(key);
		if (v === undefined && !this.map.has(key)) {
			v = make(key);
			if (this.map.size >= this.max) {
				this.map.clear();
			}

			this.map.set(key, v);
		}

		return v!;
	}
}

/** Built-in rule names (and `ip`, `default`) to rules, or a FilterError naming the flag. */
export function ruleNames(names: readonly string[], flag: string): string[] {
	const known = new Set(builtinRules.map(r => r.name));
	return names.flatMap(n => {
		const name = n.trim().toLowerCase();
		if (ruleAliases[name]) {
			return [...ruleAliases[name]];
		}

		if (!known.has(name)) {
			throw new FilterError(flag, `unknown rule ${JSON.stringify(n)}; the built-in rules are ${[...known].join(', ')} (and ip for both IP rules)`);
		}

		return [name];
	});
}

/**
 * The user rules compiled, or a FilterError naming the flag or config key of one that cannot be used.
 * Settings check a spec with it (and ruleNames, checkField) without building the scans.
 */
export function compileUserRules(rules: RedactSpec['rules']): Array<{name: string; user: UserRegex}> {
	const taken = new Set(builtinRules.map(r => r.name));
	return rules.map(r => {
		if (!ruleName.test(r.name)) {
			throw new FilterError(r.from, `rule name ${JSON.stringify(r.name)}: use letters, digits, . _ - (at most 40), starting with a letter or digit`);
		}

		if (taken.has(r.name)) {
			throw new FilterError(r.from, `rule name ${JSON.stringify(r.name)} is taken (${builtinRules.some(b => b.name === r.name) ? 'a built-in rule' : 'another rule'}); pick another`);
		}

		taken.add(r.name);
		return {name: r.name, user: compileUserRegex(r.pattern, r.from)};
	});
}

/** A field rule's path, or a FilterError naming the flag. */
export function checkField(path: string, flag: string): void {
	if (!fieldPath.test(path)) {
		throw new FilterError(flag, `field ${JSON.stringify(path)}: expected a key or a dotted path of keys, e.g. ssn or user.email`);
	}
}

/** One line for people: "12 events changed (card 9, aws-key 3)", or undefined when nothing was. */
export function describeRedaction(h: RedactHealth): string | undefined {
	if (h.changed === 0 && h.failures === 0) {
		return undefined;
	}

	const rules = h.rules.filter(r => r.hits > 0).sort((a, b) => b.hits - a.hits).map(r => `${r.name}${r.kind === 'field' ? ' (field)' : ''} ${r.hits}`);
	const withheld = h.failures > 0 ? `; ${h.failures} withheld (redaction failed)` : '';
	return `${h.changed} event${h.changed === 1 ? '' : 's'} changed (${rules.join(', ')})${withheld}`;
}
