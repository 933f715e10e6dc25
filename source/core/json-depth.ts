// Records come from strangers. V8 parses any depth, but every later stage that walks a value
// (the JSON writer, the logio fan-out, the UI's details) recurses, and a value nested 5,000
// levels deep overflows the stack there. So depth is bounded once, where records are parsed:
// anything deeper than maxJsonDepth is kept as its JSON text, a string, and reported.

export const maxJsonDepth = 64;

/** Does the value nest deeper than `max` levels (objects and arrays)? Stops as soon as it knows. */
function deeperThan(value: unknown, max: number): boolean {
	if (max <= 0) {
		return true;
	}

	if (Array.isArray(value)) {
		for (const item of value) {
			if (item !== null && typeof item === 'object' && deeperThan(item, max - 1)) {
				return true;
			}
		}

		return false;
	}

	// JSON.parse makes plain objects: every enumerable key is their own.
	for (const key in value as Record<string, unknown>) {
		const item = (value as Record<string, unknown>)[key];
		if (item !== null && typeof item === 'object' && deeperThan(item, max - 1)) {
			return true;
		}
	}

	return false;
}

/** The index just past the object or array that opens at `from` (or the end of the text). */
function valueEnd(text: string, from: number): number {
	let depth = 0;
	let inString = false;
	for (let i = from; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (inString) {
			if (c === 0x5C /* \ */) {
				i++;
			} else if (c === 0x22 /* " */) {
				inString = false;
			}
		} else if (c === 0x22) {
			inString = true;
		} else if (c === 0x7B /* { */ || c === 0x5B /* [ */) {
			depth++;
		} else if ((c === 0x7D /* } */ || c === 0x5D /* ] */) && --depth === 0) {
			return i + 1;
		}
	}

	return text.length;
}

/** The text with every object or array deeper than `max` replaced by a JSON string of its text. */
function flattenDeep(text: string, max: number): string {
	let out = '';
	let last = 0;
	let depth = 0;
	let inString = false;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (inString) {
			if (c === 0x5C) {
				i++;
			} else if (c === 0x22) {
				inString = false;
			}
		} else if (c === 0x22) {
			inString = true;
		} else if (c === 0x7B || c === 0x5B) {
			if (depth === max) {
				const end = valueEnd(text, i);
				out += text.slice(last, i) + JSON.stringify(text.slice(i, end));
				last = end;
				i = end - 1;
			} else {
				depth++;
			}
		} else if (c === 0x7D || c === 0x5D) {
			depth--;
		}
	}

	return out + text.slice(last);
}

export type Bounded = {
	value: unknown;
	/** True when parts deeper than the bound were kept as text. */
	cut: boolean;
};

/** JSON.parse, with anything nested deeper than `max` levels kept as its text. Throws as JSON.parse does on bad JSON. */
export function parseJsonBounded(text: string, max = maxJsonDepth): Bounded {
	const value: unknown = JSON.parse(text);
	if (value === null || typeof value !== 'object' || !deeperThan(value, max)) {
		return {value, cut: false};
	}

	return {value: JSON.parse(flattenDeep(text, max)), cut: true};
}

export const depthReason = `a JSON value nested deeper than ${maxJsonDepth} levels; the deeper part is kept as text`;
