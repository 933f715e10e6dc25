import {ShapeFingerprints} from './alert-fingerprints.js';
import {fieldValue} from './alert-rules.js';
import {type LogEvent} from './event.js';

// The alert engine's group keys and field values. Many rules share a groupBy (and a
// newTerm field), so each key is worked out once per event, whatever the rules that use
// it: each groupBy has one Keyer that remembers the event it keyed last.

/** One groupBy, and its key for the event keyed last. */
export type Keyer = {
	readonly groupBy: readonly string[];
	event: LogEvent | undefined;
	key: string;
};

/** An event's group and term for one groupBy and field: the event keyed last. */
export type TermKey = {
	readonly keyer: Keyer;
	readonly field: string;
	event: LogEvent | undefined;
	group: string;
	term: string;
};

const separator = '\u001F';

/** Fields of an event's scope (see Whens.sameScope): a batch of one scope has one key for groupBys of these. */
const scopeFields = new Set(['service', 'host', 'source', 'type']);

export class GroupKeys {
	private readonly keyers: Keyer[] = [];
	private readonly termKeys: TermKey[] = [];
	/** The last event fingerprinted: rules that share an event share the work. */
	private fingerprinted: LogEvent | undefined;
	private lastFingerprint = '';
	private readonly fingerprints = new ShapeFingerprints();

	/** The Keyer of this groupBy, shared by every rule with it. */
	keyer(groupBy: readonly string[]): Keyer {
		const by = groupBy.join(separator);
		let keyer = this.keyers.find(k => k.groupBy.join(separator) === by);
		if (!keyer) {
			keyer = {groupBy, event: undefined, key: ''};
			this.keyers.push(keyer);
		}

		return keyer;
	}

	/** The TermKey of this groupBy and field, shared by every newTerm rule with them. */
	termKey(keyer: Keyer, field: string): TermKey {
		let termKey = this.termKeys.find(x => x.keyer === keyer && x.field === field);
		if (!termKey) {
			termKey = {keyer, field, event: undefined, group: '', term: ''};
			this.termKeys.push(termKey);
		}

		return termKey;
	}

	/** Every groupBy is of scope fields: a batch of one scope has one key for each. */
	scopeOnly(): boolean {
		return this.keyers.every(k => k.groupBy.every(field => scopeFields.has(field)));
	}

	/** A field's value; the fingerprint (a costly masking pass) is made once per event, whatever the rules. */
	value(e: LogEvent, field: string): string {
		if (field !== 'fingerprint') {
			return fieldValue(e, field);
		}

		if (e !== this.fingerprinted) {
			this.fingerprinted = e;
			this.lastFingerprint = this.fingerprints.get(e.message);
		}

		return this.lastFingerprint;
	}

	keyOf(keyer: Keyer, e: LogEvent): string {
		if (keyer.event !== e) {
			keyer.event = e;
			keyer.key = this.groupKey(keyer.groupBy, e);
		}

		return keyer.key;
	}

	termKeyOf(k: TermKey, e: LogEvent): TermKey {
		if (k.event !== e) {
			k.event = e;
			k.group = this.keyOf(k.keyer, e);
			k.term = this.value(e, k.field);
		}

		return k;
	}

	private groupKey(by: readonly string[], e: LogEvent): string {
		if (by.length === 0) {
			return '';
		}

		if (by.length === 1) {
			return this.value(e, by[0]!);
		}

		let key = this.value(e, by[0]!);
		for (let i = 1; i < by.length; i++) {
			key += separator + this.value(e, by[i]!);
		}

		return key;
	}
}
