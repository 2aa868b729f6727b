"""Streaming XLSX, without openpyxl's memory or temporary files: :mod:`core.xlsx.reader` reads a
workbook's first visible sheet row by row (:mod:`core.xlsx.parts` and :mod:`core.xlsx.strings` are its
parts); :mod:`core.xlsx.writer` writes one sheet straight into a binary stream."""
