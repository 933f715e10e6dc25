import {compileFilter, emptySpec} from '../core/filter.js';
import {type HistoryReader} from '../history/types.js';
import {SidecarCache} from './grafana-history.js';

// When each service the history holds was last seen (receive time), for the stats of services this
// run has not seen yet. The sealed segments' sidecars say which segment holds a service last; one
// newest-first read of that segment, for all the services it is the last of, finds the event. So
// the read is a segment per group of services, not the history. The tail a stopped run left
// unsealed is read the same way, for the services no sidecar names.

export async function lastSeenFromHistory(reader: HistoryReader, services: ReadonlySet<string>, signal: AbortSignal): Promise<Map<string, number>> {
	const {segments} = await new SidecarCache(reader.dir).view('all', Number.POSITIVE_INFINITY);
	const left = new Set(services);
	const groups: Array<{names: Set<string>; from: number | undefined; to: number | undefined}> = [];
	const sealedUntil = segments.at(-1)?.maxReceived;
	for (let i = segments.length - 1; i >= 0 && left.size > 0; i--) {
		const s = segments[i]!;
		const names = new Set<string>();
		for (const {service} of s.counts) {
			if (left.delete(service)) {
				names.add(service);
			}
		}

		if (names.size > 0) {
			groups.push({names, from: s.minReceived, to: s.maxReceived});
		}
	}

	if (left.size > 0) {
		groups.unshift({names: left, from: sealedUntil === undefined ? undefined : sealedUntil + 1, to: undefined});
	}

	const found = new Map<string, number>();
	for (const {names, from, to} of groups) {
		if (signal.aborted) {
			break;
		}

		const abort = new AbortController();
		const stop = (): void => {
			abort.abort();
		};

		signal.addEventListener('abort', stop);
		const filter = compileFilter({...emptySpec(), services: [...names]});
		try {
			// eslint-disable-next-line no-await-in-loop
			for await (const e of reader.scan({reverse: true, filter, receivedSince: from, before: to === undefined ? undefined : {receivedAt: to + 1, seq: 0}, signal: abort.signal})) {
				if (!e.marker && names.delete(e.service)) {
					found.set(e.service, e.receivedAt);
					if (names.size === 0) {
						abort.abort();
						break;
					}
				}
			}
		} finally {
			signal.removeEventListener('abort', stop);
		}
	}

	return found;
}
