import {type SinkConfig} from '../config/alerts.js';
import {type AlertNotice} from '../core/alert-notice.js';
import {alertmanagerApiBody} from '../core/alert-payload.js';
import {type Sink, type SinkContext, deliveryFor} from './delivery.js';
import {postJson} from './http.js';

// `alertmanager`: POST to a real Alertmanager's /api/v2/alerts, as Prometheus and Loki's
// ruler do; routing, grouping, inhibition and silences are Alertmanager's. A firing alert
// without endsAt is resolved by Alertmanager after its resolve_timeout (5m by default), so
// the alerts still firing are posted again every `resend` (1m); a resolve carries endsAt.

export function alertmanagerSink(name: string, config: Extract<SinkConfig, {type: 'alertmanager'}>, context: SinkContext): Sink {
	const url = config.url.replace(/\/+$/, '') + '/api/v2/alerts';
	const firing = new Map<string, AlertNotice>();
	const delivery = deliveryFor(name, 'alertmanager', {
		async send(notices) {
			return postJson(url, alertmanagerApiBody(notices, context.generatorURL), {headers: config.headers, timeoutMs: config.timeout});
		},
	}, config, context);
	const resend = setInterval(() => {
		if (delivery.health.queued === 0) {
			for (const n of firing.values()) {
				delivery.enqueue(n);
			}
		}
	}, config.resend);
	resend.unref();
	return {
		delivery,
		offer(notice) {
			if (notice.status === 'firing') {
				firing.set(notice.fingerprint, notice);
			} else {
				firing.delete(notice.fingerprint);
			}

			delivery.enqueue(notice);
		},
		settle(notice) {
			// Alertmanager holds the alert as firing (and logmon re-posts it): it must hear of the end even under a silence.
			if (firing.delete(notice.fingerprint)) {
				delivery.enqueue(notice);
			}
		},
		async stop() {
			clearInterval(resend);
			await delivery.stop();
		},
	};
}
