"""Page cards: each module holds one card's callbacks (importing it registers them with Dash)."""
