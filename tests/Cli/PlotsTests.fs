/// The report's figures: a group keeps one colour in every panel of a figure.
module Prunerl.Tests.PlotsTests

open Expecto
open Prunerl.Cli
open Prunerl.Cli.Plots
open Prunerl.Experiments.Metrics

let private line label : Line = { Label = label; Xs = [| 0.0 |]; Ys = [| 1.0 |]; Interval = None }

let private panel title labels =
    Plots.Lines(Plots.chart title "step" "return" Plots.Band (labels |> List.map line))

[<Tests>]
let tests =
    testList "figures" [
        test "a group's colour is its place among the figure's labels, the same in every panel" {
            // Space Invaders has no width-3 runs: on its own its pruned line would be second and take the
            // second colour, which the other panel gives to dense width 3.
            let figure =
                { Plots.Heading = "per game"
                  Plots.Columns = 2
                  Plots.Panels =
                    [ panel "breakout" [ "dense, width=1"; "dense, width=3"; "pruned, width=1" ]
                      panel "space_invaders" [ "dense, width=1"; "pruned, width=1" ] ] }
            Expect.equal (Plots.labels figure) [ "dense, width=1"; "dense, width=3"; "pruned, width=1" ] "first appearance order"
        }
        test "interval rows share the colours of the lines" {
            let rows =
                Plots.Intervals
                    { Title = "IQM"; XLabel = "score"; Reference = None
                      Rows = [ { Label = "pruned"; Value = { Estimate = 1.0; Lower = 0.5; Upper = 1.5 } } ] }
            let figure = { Plots.Heading = ""; Plots.Columns = 2; Plots.Panels = [ panel "curves" [ "dense"; "pruned" ]; rows ] }
            Expect.equal (Plots.labels figure) [ "dense"; "pruned" ] "pruned is second in both panels"
        }
    ]
