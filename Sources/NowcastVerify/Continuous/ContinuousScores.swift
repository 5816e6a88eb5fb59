/// Mean error (bias), MAE, RMSE and Pearson correlation per lead time, from running sums; pixels
/// where the forecast or the observation is missing are left out (as pySTEPS's `det_cont_fct`).
/// Fields may be scored on a transformed scale (e.g. dBR) by transforming them before `add`.
public struct ContinuousScores: Codable, Equatable, Sendable {
    /// Running sums of one lead time.
    public struct Sums: Codable, Equatable, Sendable {
        public var count = 0.0, error = 0.0, absoluteError = 0.0, squaredError = 0.0
        public var forecast = 0.0, observed = 0.0, forecastSquared = 0.0, observedSquared = 0.0, product = 0.0

        public mutating func merge(_ o: Sums) {
            count += o.count; error += o.error; absoluteError += o.absoluteError; squaredError += o.squaredError
            forecast += o.forecast; observed += o.observed; forecastSquared += o.forecastSquared
            observedSquared += o.observedSquared; product += o.product
        }

        public var meanError: Double { count > 0 ? error / count : .nan }
        public var meanAbsoluteError: Double { count > 0 ? absoluteError / count : .nan }
        public var rootMeanSquaredError: Double { count > 0 ? (squaredError / count).squareRoot() : .nan }
        /// Pearson correlation; NaN when either field is constant.
        public var correlation: Double {
            guard count > 1 else { return .nan }
            let cov = product / count - forecast / count * observed / count
            let vf = forecastSquared / count - (forecast / count) * (forecast / count)
            let vo = observedSquared / count - (observed / count) * (observed / count)
            return vf > 0 && vo > 0 ? cov / (vf * vo).squareRoot() : .nan
        }
    }

    public private(set) var leads: [Sums]

    public init(leadTimes: Int) { leads = Array(repeating: Sums(), count: leadTimes) }

    public mutating func add(forecast: [Float], observed: [Float], lead: Int) throws {
        try forecast.withUnsafeBufferPointer { f in try observed.withUnsafeBufferPointer { try add(forecast: f, observed: $0, lead: lead) } }
    }

    /// `add` on buffers (batches of a validation pass).
    public mutating func add(forecast: UnsafeBufferPointer<Float>, observed: UnsafeBufferPointer<Float>, lead: Int) throws {
        try ScoreError.check("ContinuousScores.add", forecast.count == observed.count && leads.indices.contains(lead),
                             "one size and a lead below \(leads.count)", "\(forecast.count) and \(observed.count) values at lead \(lead)")
        var s = Sums()
        for i in 0..<forecast.count where !forecast[i].isNaN && !observed[i].isNaN {
            let (f, o) = (Double(forecast[i]), Double(observed[i]))
            s.count += 1; s.error += f - o; s.absoluteError += abs(f - o); s.squaredError += (f - o) * (f - o)
            s.forecast += f; s.observed += o; s.forecastSquared += f * f; s.observedSquared += o * o; s.product += f * o
        }
        leads[lead].merge(s)
    }

    public mutating func merge(_ other: ContinuousScores) throws {
        try ScoreError.check("ContinuousScores.merge", other.leads.count == leads.count, "\(leads.count) lead times", "\(other.leads.count)")
        for t in leads.indices { leads[t].merge(other.leads[t]) }
    }
}
