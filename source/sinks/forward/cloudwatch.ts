import {type CloudwatchForwardConfig} from '../../config/forward-cloudwatch.js';
import {type Destination, type DestinationContext} from './destination.js';

export async function createDestination(_config: CloudwatchForwardConfig, context: DestinationContext): Promise<Destination> {
	throw new Error(`forward ${context.name}: the cloudwatch destination is not built yet`);
}
