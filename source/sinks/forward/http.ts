import {type HttpForwardConfig} from '../../config/forward-http.js';
import {type Destination, type DestinationContext} from './destination.js';

export async function createDestination(_config: HttpForwardConfig, context: DestinationContext): Promise<Destination> {
	throw new Error(`forward ${context.name}: the http destination is not built yet`);
}
