<?xml version="1.0" encoding="UTF-8"?>
<!-- Shows an Atom or RSS file as a readable page when it is opened in a browser. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>
  <xsl:template match="/">
    <html lang="ko">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:feed/atom:title | rss/channel/title"/> (피드)</title>
        <style>
          body { font-family: -apple-system, "Apple SD Gothic Neo", "Malgun Gothic", "Noto Sans KR", sans-serif;
                 max-width: 44rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.6; word-break: keep-all; }
          .note { background: #f3f4f6; padding: .75rem 1rem; border-radius: .5rem; }
          li { margin: .5rem 0; }
          time { color: #6b7280; font-size: .875rem; }
          @media (prefers-color-scheme: dark) { body { background: #111827; color: #e5e7eb; }
            .note { background: #1f2937; } a { color: #93c5fd; } }
        </style>
      </head>
      <body>
        <p class="note">이 페이지는 피드입니다. 주소를 복사해 피드 리더에 추가하면 새 글을 받아 볼 수 있습니다.</p>
        <h1><xsl:value-of select="atom:feed/atom:title | rss/channel/title"/></h1>
        <p><xsl:value-of select="atom:feed/atom:subtitle | rss/channel/description"/></p>
        <ul>
          <xsl:for-each select="atom:feed/atom:entry">
            <li>
              <a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a><br/>
              <time><xsl:value-of select="substring(atom:published, 1, 10)"/></time>
            </li>
          </xsl:for-each>
          <xsl:for-each select="rss/channel/item">
            <li>
              <a href="{link}"><xsl:value-of select="title"/></a><br/>
              <time><xsl:value-of select="pubDate"/></time>
            </li>
          </xsl:for-each>
        </ul>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
