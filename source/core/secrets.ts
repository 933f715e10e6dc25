// Secret values logmon was given (a Cloud API secret, the hmac `d` of a stream, SASL passwords)
// must never reach a message it shows, whatever a server echoes back: a token endpoint may repeat
// the client secret in its 401, a logstream server its hmac in an error description. Every
// diagnostic and every source state passes through here (core/diagnostics.ts, core/bus.ts).

/** Shorter values would blank out ordinary words; no real secret is that short. */
const minLength = 4;

export class Secrets {
	private readonly forms = new Set<string>();

	/** Remember a secret, as written and in the forms a server may echo it in (JSON- and URL-escaped). */
	add(value: string | undefined): void {
		if (value === undefined || value.length < minLength) {
			return;
		}

		this.forms.add(value);
		this.forms.add(JSON.stringify(value).slice(1, -1));
		this.forms.add(encodeURIComponent(value));
	}

	get size(): number {
		return this.forms.size;
	}

	/** The text with every known secret replaced by `[redacted]`. */
	redact(text: string): string {
		if (this.forms.size === 0) {
			return text;
		}

		let out = text;
		for (const s of this.forms) {
			if (out.includes(s)) {
				out = out.split(s).join('[redacted]');
			}
		}

		return out;
	}
}
