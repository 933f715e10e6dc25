import {type FileForwardConfig} from '../../config/forward-file.js';
import {type Destination, type DestinationContext} from './destination.js';

export async function createDestination(_config: FileForwardConfig, context: DestinationContext): Promise<Destination> {
	throw new Error(`forward ${context.name}: the file destination is not built yet`);
}
