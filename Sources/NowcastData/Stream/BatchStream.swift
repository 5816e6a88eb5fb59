import Foundation
import NowcastCore
import NowcastIO

/// A batch of samples: inputs `(N, T_in, 1, H, W)` and targets `(N, T_out, 1, H, W)`, row-major.
public struct Batch: Sendable {
    /// Samples in the batch (the last one of an epoch may be smaller).
    public var count: Int
    /// Input frames, `count * inputFrames * height * width` values.
    public var inputs: [Float]
    /// Target frames, `count * targetFrames * height * width` values.
    public var targets: [Float]
    /// Frames of input per sample.
    public var inputFrames: Int
    /// Frames of target per sample.
    public var targetFrames: Int
    /// Rows.
    public var height: Int
    /// Columns.
    public var width: Int
    /// Where each sample came from, in batch order.
    public var sources: [SampleSource]

    public init(count: Int, inputs: [Float], targets: [Float], inputFrames: Int, targetFrames: Int, height: Int, width: Int,
                sources: [SampleSource] = []) {
        (self.count, self.inputs, self.targets, self.inputFrames, self.targetFrames, self.height, self.width)
            = (count, inputs, targets, inputFrames, targetFrames, height, width)
        self.sources = sources
    }

    /// Shape of `inputs` as (N, T, C, H, W).
    public var inputShape: [Int] { [count, inputFrames, 1, height, width] }
    /// Shape of `targets` as (N, T, C, H, W).
    public var targetShape: [Int] { [count, targetFrames, 1, height, width] }
}

/// A sample's place in a store: its shard (relative to the store) and its index there.
public struct SampleSource: Sendable, Equatable, CustomStringConvertible {
    public var shard: String
    public var index: Int

    public init(shard: String, index: Int) {
        self.shard = shard
        self.index = index
    }

    public var description: String { "\(shard), sample \(index)" }
}

/// Settings of a batch stream.
public struct BatchStreamOptions: Sendable, Equatable {
    /// Which split to stream.
    public var split: Split = .train
    /// Samples per batch.
    public var batchSize: Int = 8
    /// Samples held for shuffling (memory: this many samples); 0 or 1 keeps the store's order.
    public var shuffleBuffer: Int = 256
    /// Seed of the per-epoch order.
    public var seed: UInt64 = 0
    /// Drop a last batch smaller than `batchSize`.
    public var dropLast: Bool = false
    /// Batches prepared ahead by the background thread.
    public var prefetch: Int = 4

    public init(split: Split = .train, batchSize: Int = 8, shuffleBuffer: Int = 256, seed: UInt64 = 0, dropLast: Bool = false,
                prefetch: Int = 4) {
        self.split = split
        self.batchSize = batchSize
        self.shuffleBuffer = shuffleBuffer
        self.seed = seed
        self.dropLast = dropLast
        self.prefetch = prefetch
    }
}

/// Streams batches from a sample store: shards in a seeded order per epoch, samples through a
/// shuffle buffer, decoded and batched by a background thread ahead of the consumer. Memory is
/// bounded by the shuffle buffer and the prefetched batches. The same seed and epoch give the same
/// batches, bit for bit.
public final class BatchStream {
    /// The store streamed.
    public let store: SampleStore
    /// The settings.
    public let options: BatchStreamOptions

    public init(store: SampleStore, options: BatchStreamOptions) throws {
        guard options.batchSize >= 1 else { throw NowcastDataError.invalidSetting(key: "batch_size", expected: "at least 1", found: "\(options.batchSize)") }
        guard options.shuffleBuffer >= 0 else {
            throw NowcastDataError.invalidSetting(key: "shuffle_buffer", expected: "0 or more", found: "\(options.shuffleBuffer)")
        }
        guard options.prefetch >= 1 else { throw NowcastDataError.invalidSetting(key: "prefetch", expected: "at least 1", found: "\(options.prefetch)") }
        guard store.sampleCount(options.split) > 0 else {
            throw NowcastDataError.store(path: store.folder, detail: "the \(options.split.rawValue) split has no samples")
        }
        self.store = store
        self.options = options
    }

    /// Batches per epoch.
    public var batchesPerEpoch: Int {
        let n = store.sampleCount(options.split)
        return options.dropLast ? n / options.batchSize : (n + options.batchSize - 1) / options.batchSize
    }

    /// Starts streaming epoch `epoch` (0-based) on a background thread. `skippingBatches` leaves out
    /// the epoch's first batches without assembling them (a resumed run continues mid-epoch); the
    /// batches after them are the same as in a full pass.
    public func epoch(_ epoch: Int, skippingBatches: Int = 0) -> BatchIterator {
        BatchIterator(store: store, options: options, epoch: epoch, skip: skippingBatches)
    }
}

/// The batches of one epoch. `next()` returns nil at the end; an error reading the store is thrown there.
public final class BatchIterator {
    private enum Item { case batch(Batch), failure(Error), end }

    private let condition = NSCondition()
    private var queue: [Item] = []
    private var cancelled = false
    private var finished = false
    private let capacity: Int

    init(store: SampleStore, options: BatchStreamOptions, epoch: Int, skip: Int) {
        capacity = options.prefetch
        let thread = Thread { [weak self] in
            Self.produce(store: store, options: options, epoch: epoch, skip: skip) { item in self?.push(item) ?? false }
        }
        thread.name = "nowcast.batchstream"
        thread.start()
    }

    deinit {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch, or nil at the end of the epoch.
    public func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        if finished { return nil }
        while queue.isEmpty { condition.wait() }
        let item = queue.removeFirst()
        condition.broadcast()
        switch item {
        case let .batch(batch): return batch
        case let .failure(error): finished = true; throw error
        case .end: finished = true; return nil
        }
    }

    /// Queues an item, waiting while the queue is full; false once the consumer is gone.
    private func push(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        queue.append(item)
        condition.broadcast()
        return true
    }

    private static func produce(store: SampleStore, options: BatchStreamOptions, epoch: Int, skip: Int, emit: (Item) -> Bool) {
        let layout = store.manifest.layout
        let size = layout.sampleValues
        var random = SeededGenerator(seed: options.seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        var shards = store.shards(options.split)
        let shuffling = options.shuffleBuffer > 1
        if shuffling { shards.shuffle(using: &random) }
        typealias Sample = (values: [Float], source: SampleSource)
        var buffer: [Sample] = []
        var pending: [Sample] = []
        var skipping = max(0, skip)
        func flush(_ samples: [Sample]) -> Bool {
            if skipping > 0 { skipping -= 1; return true }
            return emit(.batch(makeBatch(samples, layout: layout)))
        }
        func take(_ sample: Sample) -> Bool {
            pending.append(sample)
            guard pending.count == options.batchSize else { return true }
            defer { pending.removeAll(keepingCapacity: true) }
            return flush(pending)
        }
        do {
            let block = 16
            var decoded = [Float](repeating: 0, count: block * size)
            for shard in shards {
                let reader = try store.open(shard)
                var start = 0
                while start < reader.count {
                    let range = start..<min(reader.count, start + block)
                    try decoded.withUnsafeMutableBufferPointer { try reader.read(range, into: $0) }
                    for k in 0..<range.count {
                        let sample = (Array(decoded[(k * size)..<((k + 1) * size)]), SampleSource(shard: shard.path, index: range.lowerBound + k))
                        if !shuffling {
                            guard take(sample) else { return }
                        } else if buffer.count < options.shuffleBuffer {
                            buffer.append(sample)
                        } else {
                            let j = Int(random.next() % UInt64(buffer.count))
                            guard take(buffer[j]) else { return }
                            buffer[j] = sample
                        }
                    }
                    start = range.upperBound
                }
            }
            while !buffer.isEmpty {
                buffer.swapAt(Int(random.next() % UInt64(buffer.count)), buffer.count - 1)
                guard take(buffer.removeLast()) else { return }
            }
            if !pending.isEmpty, !options.dropLast { guard flush(pending) else { return } }
            _ = emit(.end)
        } catch {
            _ = emit(.failure(error))
        }
    }

    private static func makeBatch(_ samples: [(values: [Float], source: SampleSource)], layout: SampleLayout) -> Batch {
        let frame = layout.ny * layout.nx
        let inputSize = layout.inputs * frame, targetSize = layout.targets * frame
        var inputs = [Float](), targets = [Float]()
        inputs.reserveCapacity(samples.count * inputSize)
        targets.reserveCapacity(samples.count * targetSize)
        for (sample, _) in samples {
            inputs += sample[0..<inputSize]
            targets += sample[inputSize..<(inputSize + targetSize)]
        }
        return Batch(count: samples.count, inputs: inputs, targets: targets, inputFrames: layout.inputs, targetFrames: layout.targets,
                     height: layout.ny, width: layout.nx, sources: samples.map(\.source))
    }
}
