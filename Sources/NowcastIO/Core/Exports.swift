/// The shared basics (seeded randomness) come with NowcastIO.
@_exported import NowcastCore
