/// Line charts with intervals, drawn with ScottPlot into PNG bytes (nothing is written here).
module Prunerl.Cli.Plots

open Prunerl.Core
open Prunerl.Experiments

/// One line of a chart, with an interval (lower, upper) at each point or none.
type Line =
    { Label: string
      Xs: float[]
      Ys: float[]
      Interval: (float[] * float[]) option }

/// How intervals are drawn: a shaded band (curves over training) or error bars (a few points).
type IntervalStyle =
    | Band
    | Bars

/// Width and height of every chart, in pixels.
let size = 900, 540

/// A chart of the lines in PNG form: each line in its own colour with its interval and a legend entry;
/// with ticks, the x axis is labelled at those values only (the widths of a width-scaling plot).
let rec chartWithTicks (ticks: float[] option) (title: string) (xLabel: string) (yLabel: string) (style: IntervalStyle) (lines: Line list) : byte[] =
    use plot = new ScottPlot.Plot()
    let palette = ScottPlot.Palettes.Category10()
    lines
    |> List.iteri (fun i line ->
        let color = palette.GetColor i
        match line.Interval, style with
        | Some(lower, upper), Band when line.Xs.Length > 1 ->
            let band = plot.Add.FillY(line.Xs, lower, upper)
            band.FillColor <- color.WithAlpha 0.2
            band.LineWidth <- 0.0f
        | Some(lower, upper), _ ->
            let bars = plot.Add.ErrorBar(line.Xs, line.Ys, Array.zeroCreate line.Xs.Length)
            bars.YErrorPositive <- Array.map2 (-) upper line.Ys
            bars.YErrorNegative <- Array.map2 (-) line.Ys lower
            bars.Color <- color
        | None, _ -> ()
        let scatter = plot.Add.Scatter(line.Xs, line.Ys, color)
        scatter.LegendText <- line.Label
        scatter.LineWidth <- 2.0f
        scatter.MarkerSize <- (if style = Bars || line.Xs.Length <= 30 then 6.0f else 0.0f))
    match ticks with
    | Some positions ->
        plot.Axes.Bottom.SetTicks(positions, positions |> Array.map (fun x -> Validate.show x))
        let lo, hi = Array.min positions, Array.max positions
        let pad = if hi > lo then 0.15 * (hi - lo) else 0.5
        plot.Axes.SetLimitsX(lo - pad, hi + pad)
    | None -> ()
    plot.Title(title, 13.0f)
    plot.XLabel xLabel
    plot.YLabel yLabel
    plot.ShowLegend() |> ignore
    let width, height = size
    plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png)

/// A chart of the lines in PNG form: each line in its own colour with its interval and a legend entry.
and chart (title: string) (xLabel: string) (yLabel: string) (style: IntervalStyle) (lines: Line list) : byte[] =
    chartWithTicks None title xLabel yLabel style lines

/// A curve's steps, aggregates and interval ends as a chart line.
let ofCurve (label: string) (curve: Curve) (withInterval: bool) : Line =
    { Label = label
      Xs = curve.Points |> Array.map (fun p -> float p.Step)
      Ys = curve.Points |> Array.map (fun p -> p.Value.Estimate)
      Interval =
        if withInterval then Some(curve.Points |> Array.map (fun p -> p.Value.Lower), curve.Points |> Array.map (fun p -> p.Value.Upper))
        else None }

/// A file name part from free text: letters, digits, '.', '_' and '-' kept, anything else '-'.
let slug (text: string) = text |> String.map (fun c -> if System.Char.IsLetterOrDigit c || c = '.' || c = '_' || c = '-' then c else '-')
