//! The block-production seam (BlockProducer) and the dev-mode miner.
