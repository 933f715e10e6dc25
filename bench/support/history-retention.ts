import {HistoryWriter} from '../../source/history/writer.js';
import {Sealer} from '../../source/history/seal.js';
import {listSegments} from '../../source/history/segments.js';

// Retention as the writer applies it at start and once a minute, timed on a store, with a clock
// set to `now` and the default limits (3 days, 30 days for errors, 2 GiB).

export async function measureRetention(dir: string, now: number): Promise<{ms: number; removed: number}> {
	const count = async (): Promise<number> => (await listSegments(dir, 'all')).length + (await listSegments(dir, 'errors')).length;
	const before = await count();
	const sealer = new Sealer();
	const writer = new HistoryWriter(dir, sealer, {clock: () => now});
	const started = performance.now();
	await writer.maintain();
	const ms = performance.now() - started;
	await sealer.close();
	return {ms, removed: before - await count()};
}
