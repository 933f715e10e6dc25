import {type SinkConfig} from '../config/alerts.js';
import {slackBody} from '../core/alert-payload.js';
import {type Sink, type SinkContext, deliveryFor, plainSink} from './delivery.js';
import {postJson} from './http.js';

// `slack`: an incoming webhook. `{"text": …, "blocks": […]}`; Slack answers 200 "ok", or a
// plain-text reason (400 invalid_payload, 404 channel_not_found…), or 429 with Retry-After.
// One message a second by default, as Slack asks; what waits behind it goes out as one summary.

export function slackSink(name: string, config: Extract<SinkConfig, {type: 'slack'}>, context: SinkContext): Sink {
	return plainSink(deliveryFor(name, 'slack', {
		async send(notices) {
			return postJson(config.url, slackBody(notices), {timeoutMs: config.timeout});
		},
	}, config, context));
}
