// The secret values a config holds, by the names of the fields that hold them: every
// message logmon shows is scrubbed of them (core/secrets.ts).

const secretFields = new Set(['password', 'secret', 'apiSecret', 'api_secret', 'client_secret', 'd', 'hmac', 'token', 'accessToken', 'access_token']);

export function configSecrets(value: unknown, depth = 0): string[] {
	if (value === null || typeof value !== 'object' || depth > 16) {
		return [];
	}

	const out: string[] = [];
	for (const [key, v] of Object.entries(value)) {
		if (typeof v === 'string' && secretFields.has(key)) {
			out.push(v);
		} else {
			out.push(...configSecrets(v, depth + 1));
		}
	}

	return out;
}
