import type { Tensor } from '@unicontrol/core';

/**
 * Receives named intermediate tensors of a forward pass (for checking against the oracle's
 * intermediates). The tensor is only valid during the call: read or `keep()` it there.
 */
export type Probe = (name: string, tensor: Tensor) => void;
