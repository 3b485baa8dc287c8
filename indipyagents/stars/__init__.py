"""The agents' one room for measuring stars: `star.Star` (pure, what a measured star is) and
`measure` (numpy and sep, the optional extra [agents]: a FITS frame's image, its stars found
once, then measured for autofocus, `hfr`, or for the guider, `guide_stars`). Importing the
package imports neither numpy nor sep: an agent without the extra starts and says what to
install when it first measures."""
