import {sparkline} from './chart.js';
import {ago, bodyOf, byId, count, el} from './dom.js';
import {type GroupsAnswer} from './types.js';

// The error groups: errors whose messages differ only in their varying parts (ids, numbers,
// times) are one group, with its count, a sparkline of its recent trend and its latest message.

export function renderGroups(answer: GroupsAnswer): void {
	const now = Date.now();
	const rows = answer.groups.map(g => {
		const tr = el('tr', {className: `lvl-${g.level}`},
			el('td', {className: 'num', text: count(g.count)}),
			el('td', {className: 'trend'}, sparkline(g.buckets.counts)),
			el('td', {className: 'level', text: g.level}),
			el('td', {className: 'service', text: g.services.join(', ') + (g.moreServices > 0 ? ` +${g.moreServices}` : '')}),
			el('td', {text: ago(Date.parse(g.lastSeen), now), title: `first seen ${g.firstSeen}, last seen ${g.lastSeen}`}),
			el('td', {className: 'message', text: g.sample.message, title: `pattern: ${g.fingerprint}`}),
		);
		tr.dataset['fingerprint'] = g.fingerprint;
		return tr;
	});
	if (rows.length === 0) {
		rows.push(el('tr', {}, el('td', {className: 'empty', text: 'No errors.'})));
		rows[0]!.cells[0]!.colSpan = 6;
	}

	bodyOf('groups').replaceChildren(...rows);
	byId('groups-note').textContent = `${count(answer.total)} errors in ${count(answer.groupCount)} groups${answer.partial ? ' (partial: the scan stopped at its limit)' : ''}`;
}
