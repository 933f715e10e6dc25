import {sparkline} from './chart.js';
import {ago, byId, count, el} from './dom.js';
import {type GroupsAnswer} from './types.js';

// The error groups: errors whose messages differ only in their varying parts (ids, numbers,
// times) are one group, with its count, a sparkline of its recent trend and its latest message.
// Each group is a tbody of two rows: the numbers, then the message across the table.

export function renderGroups(answer: GroupsAnswer): void {
	const now = Date.now();
	const bodies = answer.groups.map(g => {
		const message = el('td', {className: 'message', text: g.sample.message, title: `pattern: ${g.fingerprint}`});
		message.colSpan = 5;
		const body = el('tbody', {className: `lvl-${g.level}`},
			el('tr', {},
				el('td', {className: 'num count', text: count(g.count)}),
				el('td', {className: 'trend'}, sparkline(g.buckets.counts)),
				el('td', {className: 'level', text: g.level}),
				el('td', {className: 'service', text: g.services.join(', ') + (g.moreServices > 0 ? ` +${g.moreServices}` : '')}),
				el('td', {text: ago(Date.parse(g.lastSeen), now), title: `first seen ${g.firstSeen}, last seen ${g.lastSeen}`}),
			),
			el('tr', {className: 'sample'}, message),
		);
		body.dataset['fingerprint'] = g.fingerprint;
		return body;
	});
	if (bodies.length === 0) {
		const empty = el('td', {className: 'empty', text: 'No errors.'});
		empty.colSpan = 5;
		bodies.push(el('tbody', {}, el('tr', {}, empty)));
	}

	const table = byId<HTMLTableElement>('groups');
	for (const old of [...table.tBodies]) {
		old.remove();
	}

	table.append(...bodies);
	byId('groups-note').textContent = `${count(answer.total)} errors in ${count(answer.groupCount)} groups${answer.partial ? ' (partial: the scan stopped at its limit)' : ''}`;
}
