import Foundation
import NowcastPlot

/// A plot of a run: training loss, and validation loss of the model and of persistence, against
/// the step; drawn by NowcastPlot (cairo) as the verification plots are.
enum ProgressPlot {
    static func figure(title: String, training: [(step: Int, loss: Double)], validation: [(step: Int, model: Double, persistence: Double)]) -> Figure {
        var panel = Panel(title: "", xLabel: "step", yLabel: "loss")
        panel.lines = [
            Panel.Line(name: "training loss", points: training.map { (Double($0.step), $0.loss) }, colour: PlotColour.palette[0], markers: false),
            Panel.Line(name: "validation loss", points: validation.map { (Double($0.step), $0.model) }, colour: PlotColour.palette[1]),
            Panel.Line(name: "persistence (validation)", points: validation.map { (Double($0.step), $0.persistence) }, colour: .grey, dashed: true),
        ]
        return Figure(title: title, panels: [panel], width: 720, panelHeight: 400)
    }
}
