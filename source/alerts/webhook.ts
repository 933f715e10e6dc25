import {type SinkConfig} from '../config/alerts.js';
import {alertmanagerWebhookBody, logmonBody} from '../core/alert-payload.js';
import {type Sink, type SinkContext, deliveryFor, plainSink} from './delivery.js';
import {postJson} from './http.js';

// `webhook`: POST JSON to a URL, logmon's own body or Alertmanager's webhook body
// (version "4"), with the configured headers (values may hold ${ENV}, expanded at load).

export function webhookSink(name: string, config: Extract<SinkConfig, {type: 'webhook'}>, context: SinkContext): Sink {
	const externalURL = 'logmon://' + name;
	return plainSink(deliveryFor(name, 'webhook', {
		async send(notices) {
			const body = config.format === 'alertmanager'
				? alertmanagerWebhookBody(notices, name, externalURL, context.generatorURL)
				: logmonBody(notices, name);
			return postJson(config.url, body, {headers: config.headers, timeoutMs: config.timeout});
		},
	}, config, context));
}
