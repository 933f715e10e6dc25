import {lineChart} from './chart.js';
import {ago, bodyOf, byId, count, el, percent, rate} from './dom.js';
import {type SeriesAnswer, type StatsAnswer} from './types.js';

// Per-service statistics, and the chart of events/s and errors/s over the chosen window.

export function renderStats(answer: StatsAnswer, onPick: (service: string) => void): void {
	const now = Date.now();
	const rows = answer.services.map(s => {
		const tr = el('tr', {className: s.errors > 0 ? 'has-errors' : ''},
			el('td', {className: 'service', text: s.service || '(none)'}),
			el('td', {className: 'num', text: count(s.total)}),
			el('td', {className: 'num', text: count(s.errors)}),
			el('td', {className: 'num', text: percent(s.errorRate)}),
			el('td', {className: 'num', text: rate(s.eventsPerSecond)}),
			el('td', {text: s.lastSeen === null ? '–' : ago(Date.parse(s.lastSeen), now)}),
		);
		tr.title = 'Show this service in the chart';
		tr.addEventListener('click', () => {
			onPick(s.service);
		});
		return tr;
	});
	bodyOf('services').replaceChildren(...rows);
	const now1 = answer.eventsPerSecond['1m'] ?? 0;
	byId('totals').textContent = `${count(answer.total)} events, ${count(answer.errors)} errors (${percent(answer.errorRate)}), ${rate(now1)}/s over the last minute${answer.partial ? ' (partial)' : ''}`;

	// The chart's service list follows the services seen.
	const select = byId<HTMLSelectElement>('chart-service');
	const have = new Set([...select.options].map(o => o.value));
	for (const s of answer.services) {
		if (!have.has(s.service)) {
			select.append(el('option', {text: s.service || '(none)'}));
			select.options[select.options.length - 1]!.value = s.service;
		}
	}
}

export function renderSeries(answer: SeriesAnswer): void {
	const perSecond = (values: number[]) => values.map(v => v / (answer.stepMs / 1000));
	const chart = lineChart([
		{label: 'events/s', className: 'events', values: perSecond(answer.events)},
		{label: 'errors/s', className: 'errors', values: perSecond(answer.errors)},
	], Date.parse(answer.since), answer.stepMs);
	byId('chart').replaceChildren(chart, el('p', {className: 'legend'},
		el('span', {className: 'key events', text: 'events/s'}),
		el('span', {className: 'key errors', text: 'errors/s'}),
	));
	byId('chart-note').textContent = `${answer.stepMs >= 60_000 ? `${answer.stepMs / 60_000} min` : `${answer.stepMs / 1000} s`} steps, from ${answer.from}${answer.partial ? `, partial: counted back to ${answer.countedFrom ? new Date(answer.countedFrom).toLocaleString() : 'the scan\'s limit'}` : ''}`;
}
